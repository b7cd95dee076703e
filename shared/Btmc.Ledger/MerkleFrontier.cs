using System.Numerics;

namespace Btmc.Ledger;

/// <summary>
/// The compact range [0, <see cref="Size"/>) of an RFC 9162 tree: the roots of the perfect subtrees the size splits
/// into, widest first (one per set bit of the size). It is all a log needs to append leaves and compute the root of
/// every later size, so the ledger keeps one per block — the chain-wide tree over every entry of a chain — instead of
/// re-reading the chain's history to sign a checkpoint.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<Hash32> _nodes;

    /// <summary>The frontier of the empty tree.</summary>
    public MerkleFrontier()
    {
        _nodes = [];
    }

    private MerkleFrontier(long size, List<Hash32> nodes)
    {
        Size = size;
        _nodes = nodes;
    }

    /// <summary>How many leaves the frontier covers.</summary>
    public long Size { get; private set; }

    /// <summary>The subtree roots, widest (leftmost) first.</summary>
    public IReadOnlyList<Hash32> Nodes => _nodes;

    /// <summary>The frontier of <paramref name="size"/> leaves from its subtree roots, widest first.</summary>
    /// <exception cref="ArgumentException">The number of nodes is not the number of set bits of the size.</exception>
    public static MerkleFrontier FromNodes(long size, IEnumerable<Hash32> nodes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var list = nodes.ToList();
        return list.Count == BitOperations.PopCount((ulong)size)
            ? new MerkleFrontier(size, list)
            : throw new ArgumentException($"A tree of {size} leaves has {BitOperations.PopCount((ulong)size)} frontier nodes, not {list.Count}.", nameof(nodes));
    }

    /// <summary>The frontier of <paramref name="size"/> leaves from its stored form (<see cref="Encode"/>).</summary>
    /// <exception cref="FormatException">The bytes are not the frontier of that size.</exception>
    public static MerkleFrontier Decode(long size, ReadOnlySpan<byte> encoded)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var count = BitOperations.PopCount((ulong)size);
        if (encoded.Length != count * Hash32.Size)
        {
            throw new FormatException($"A frontier of {size} leaves is {count * Hash32.Size} bytes, not {encoded.Length}.");
        }

        var nodes = new List<Hash32>(count);
        for (var i = 0; i < count; i++)
        {
            nodes.Add(new Hash32(encoded.Slice(i * Hash32.Size, Hash32.Size)));
        }

        return new MerkleFrontier(size, nodes);
    }

    /// <summary>The nodes, concatenated widest first (32 bytes each); the size is stored beside them.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[_nodes.Count * Hash32.Size];
        for (var i = 0; i < _nodes.Count; i++)
        {
            _nodes[i].CopyTo(bytes.AsSpan(i * Hash32.Size));
        }

        return bytes;
    }

    /// <summary>An independent copy.</summary>
    public MerkleFrontier Clone() => new(Size, [.. _nodes]);

    /// <summary>Appends the leaf hash of leaf <see cref="Size"/>.</summary>
    public void Append(in Hash32 leafHash)
    {
        // Each trailing one bit of the old size is a subtree as wide as the new one: merge them right to left.
        var node = leafHash;
        for (var bits = (ulong)Size; (bits & 1) == 1; bits >>= 1)
        {
            node = MerkleTree.HashChildren(_nodes[^1], node);
            _nodes.RemoveAt(_nodes.Count - 1);
        }

        _nodes.Add(node);
        Size++;
    }

    /// <summary>Appends leaf hashes in order.</summary>
    public void Append(ReadOnlySpan<Hash32> leafHashes)
    {
        foreach (var leaf in leafHashes)
        {
            Append(leaf);
        }
    }

    /// <summary>MTH of the <see cref="Size"/> leaves: the nodes folded right to left (the empty root for none).</summary>
    public Hash32 ComputeRoot()
    {
        if (_nodes.Count == 0)
        {
            return MerkleTree.EmptyRoot;
        }

        var root = _nodes[^1];
        for (var i = _nodes.Count - 2; i >= 0; i--)
        {
            root = MerkleTree.HashChildren(_nodes[i], root);
        }

        return root;
    }
}
