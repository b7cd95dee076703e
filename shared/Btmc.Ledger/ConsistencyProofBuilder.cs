namespace Btmc.Ledger;

/// <summary>
/// Builds PROOF(m, D[n]) of RFC 9162 section 2.1.4.1 from the frontier of the old tree and the leaves appended since,
/// streaming them: O(log n) memory and O(n - m) hashing, so a proof costs the growth since the old checkpoint, never
/// the history. It works because every node of the proof is either a subtree root of the old tree's frontier (the
/// left siblings the recursion passes) or the root of a run of leaves at or after m (the right siblings, which
/// partition [m, n) left to right).
/// </summary>
public sealed class ConsistencyProofBuilder
{
    private readonly MerkleFrontier _old;
    private readonly List<Part> _parts = [];
    private readonly List<int> _rightParts = [];
    private MerkleFrontier? _current;
    private int _currentRight;
    private long _next;

    /// <param name="oldTree">The frontier of the old tree: m = its size, at least 1.</param>
    /// <param name="newSize">n, at least m.</param>
    /// <exception cref="ArgumentOutOfRangeException">m is 0, or n is below m.</exception>
    public ConsistencyProofBuilder(MerkleFrontier oldTree, long newSize)
    {
        ArgumentNullException.ThrowIfNull(oldTree);
        ArgumentOutOfRangeException.ThrowIfLessThan(oldTree.Size, 1, "oldTree.Size");
        ArgumentOutOfRangeException.ThrowIfLessThan(newSize, oldTree.Size);
        _old = oldTree;
        NewSize = newSize;
        _next = oldTree.Size;
        if (newSize > oldTree.Size)
        {
            Plan(oldTree.Size, 0, newSize, true);
        }

        for (var i = 0; i < _parts.Count; i++)
        {
            if (!_parts[i].FromOldTree)
            {
                _rightParts.Add(i);
            }
        }
    }

    public long OldSize => _old.Size;

    public long NewSize { get; }

    /// <summary>How many of the n - m leaves are still to come.</summary>
    public long Missing => NewSize - _next;

    /// <summary>Appends the leaf hash of leaf m, m + 1, ... in order.</summary>
    /// <exception cref="InvalidOperationException">All n - m leaves have been given already.</exception>
    public void Append(in Hash32 leafHash)
    {
        if (_next >= NewSize)
        {
            throw new InvalidOperationException($"The proof covers leaves {OldSize}..{NewSize - 1}; leaf {_next} is one too many.");
        }

        var part = _parts[_rightParts[_currentRight]];
        _current ??= new MerkleFrontier();
        _current.Append(leafHash);
        _next++;
        if (_next == part.End)
        {
            _parts[_rightParts[_currentRight]] = part with { Hash = _current.ComputeRoot() };
            _current = null;
            _currentRight++;
        }
    }

    /// <summary>The proof, nearest node first, once every leaf is in; empty when m = n.</summary>
    /// <exception cref="InvalidOperationException">Leaves are missing.</exception>
    public Hash32[] Build()
    {
        if (_next != NewSize)
        {
            throw new InvalidOperationException($"{NewSize - _next} of the {NewSize - OldSize} leaves after the old tree are missing.");
        }

        return _parts.Select(p => p.Hash).ToArray();
    }

    /// <summary>SUBPROOF(m, D[low:high], whole) in output order: the deeper nodes first.</summary>
    private void Plan(long m, long low, long high, bool whole)
    {
        if (m == high - low)
        {
            if (!whole)
            {
                _parts.Add(new Part(true, low, high, OldNode(low, high)));
            }

            return;
        }

        var split = LargestPowerOfTwoBelow(high - low);
        if (m <= split)
        {
            Plan(m, low, low + split, whole);
            _parts.Add(new Part(false, low + split, high, default));
        }
        else
        {
            Plan(m - split, low + split, high, false);
            _parts.Add(new Part(true, low, low + split, OldNode(low, low + split)));
        }
    }

    /// <summary>The frontier node covering exactly [low, high) of the old tree.</summary>
    private Hash32 OldNode(long low, long high)
    {
        var start = 0L;
        var index = 0;
        for (var bit = 62; bit >= 0; bit--)
        {
            var width = 1L << bit;
            if ((_old.Size & width) == 0)
            {
                continue;
            }

            if (start == low && start + width == high)
            {
                return _old.Nodes[index];
            }

            start += width;
            index++;
        }

        throw new InvalidOperationException($"[{low}, {high}) is not a subtree of the old tree's frontier.");
    }

    private static long LargestPowerOfTwoBelow(long n) => 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(n - 1)));

    private readonly record struct Part(bool FromOldTree, long Start, long End, Hash32 Hash);
}
