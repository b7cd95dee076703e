using System.Numerics;

namespace Btmc.Ledger;

/// <summary>
/// RFC 9162 inclusion proofs in a tree of which only the frontier before the last leaves is known, and those last
/// leaves: what a receipt needs to prove an event of block h in the chain-wide tree after block h, from the frontier
/// after block h − 1 and block h's own leaves, without reading the chain's history. Every sibling on the path right of
/// the frontier is computed from the new leaves; every sibling inside it is one of its nodes, or (when a sibling spans
/// the frontier's end) is folded from its last nodes and the first new leaves.
/// </summary>
public static class FrontierInclusionProof
{
    /// <summary>PATH(<paramref name="leafIndex"/>, D[<paramref name="before"/>.Size + <paramref name="leaves"/>.Length]), nearest sibling first.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="leafIndex"/> is not the index of one of <paramref name="leaves"/> in the whole tree.</exception>
    public static Hash32[] Create(MerkleFrontier before, ReadOnlySpan<Hash32> leaves, long leafIndex)
    {
        ArgumentNullException.ThrowIfNull(before);
        var start = before.Size;
        var size = start + leaves.Length;
        if (leafIndex < start || leafIndex >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(leafIndex), $"Leaf {leafIndex} is not one of the new leaves [{start}, {size}).");
        }

        // The frontier's nodes by where their subtree starts: widest (leftmost) first, one per set bit of the size.
        var nodes = new Dictionary<long, (long Width, Hash32 Hash)>();
        var offset = 0L;
        var remaining = start;
        foreach (var node in before.Nodes)
        {
            var width = 1L << (63 - BitOperations.LeadingZeroCount((ulong)remaining));
            nodes[offset] = (width, node);
            offset += width;
            remaining -= width;
        }

        var array = leaves.ToArray();
        var path = new List<Hash32>();
        Path(leafIndex, 0, size);
        return [.. path];

        void Path(long m, long low, long high)
        {
            if (high - low <= 1)
            {
                return;
            }

            var k = LargestPowerOfTwoBelow(high - low);
            if (m < low + k)
            {
                Path(m, low, low + k);
                path.Add(Hash(low + k, high));
            }
            else
            {
                Path(m, low + k, high);
                path.Add(Hash(low, low + k));
            }
        }

        Hash32 Hash(long low, long high)
        {
            if (low >= start)
            {
                return MerkleTree.ComputeRoot(array.AsSpan((int)(low - start), (int)(high - low)));
            }

            if (nodes.TryGetValue(low, out var node) && node.Width == high - low)
            {
                return node.Hash;
            }

            // A left sibling is a maximal perfect subtree left of the leaf: inside the frontier it is one of its
            // nodes, so only a range that spans the frontier's end gets here, and its halves do the same.
            if (high <= start)
            {
                throw new InvalidOperationException($"[{low}, {high}) is inside the frontier but not one of its nodes.");
            }

            var k = LargestPowerOfTwoBelow(high - low);
            return MerkleTree.HashChildren(Hash(low, low + k), Hash(low + k, high));
        }
    }

    private static long LargestPowerOfTwoBelow(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));
}
