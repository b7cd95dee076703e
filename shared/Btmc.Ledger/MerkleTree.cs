using System.Buffers;
using System.Numerics;

namespace Btmc.Ledger;

/// <summary>The Merkle tree of RFC 9162 section 2.1 (the RFC 6962 construction) over SHA-256.</summary>
public static class MerkleTree
{
    /// <summary>Domain-separation prefix of a leaf hash.</summary>
    public const byte LeafPrefix = 0x00;

    /// <summary>Domain-separation prefix of an interior node hash.</summary>
    public const byte NodePrefix = 0x01;

    // Leaves whose data fits this many bytes are hashed from a stack buffer.
    private const int StackLeafLimit = 1024;

    // A span holds at most int.MaxValue leaves, so a tree has at most 31 levels; 64 is a safe bound.
    private const int MaxDepth = 64;

    private static readonly Hash32 s_emptyRoot = Hash32.Compute(ReadOnlySpan<byte>.Empty);

    /// <summary>MTH({}) = SHA-256 of the empty string.</summary>
    public static Hash32 EmptyRoot => s_emptyRoot;

    /// <summary>SHA-256(0x00 || leafData).</summary>
    public static Hash32 HashLeaf(ReadOnlySpan<byte> leafData)
    {
        var length = leafData.Length + 1;
        byte[]? rented = null;
        var buffer = length <= StackLeafLimit + 1
            ? stackalloc byte[StackLeafLimit + 1]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            buffer[0] = LeafPrefix;
            leafData.CopyTo(buffer[1..]);
            return Hash32.Compute(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>SHA-256(0x01 || left || right).</summary>
    public static Hash32 HashChildren(in Hash32 left, in Hash32 right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash32.Size)];
        buffer[0] = NodePrefix;
        left.AsSpan().CopyTo(buffer[1..]);
        right.AsSpan().CopyTo(buffer[(1 + Hash32.Size)..]);
        return Hash32.Compute(buffer);
    }

    /// <summary>MTH(D[n]) over already-hashed leaves. O(n) time, O(log n) stack memory, no heap allocation.</summary>
    public static Hash32 ComputeRoot(ReadOnlySpan<Hash32> leafHashes)
    {
        if (leafHashes.IsEmpty)
        {
            return EmptyRoot;
        }

        // The stack holds the roots of complete subtrees, largest first; each is a power of two wide.
        Span<Hash32> stack = stackalloc Hash32[MaxDepth];
        var top = 0;
        for (var i = 0; i < leafHashes.Length; i++)
        {
            var node = leafHashes[i];
            for (var count = (uint)i + 1; (count & 1) == 0; count >>= 1)
            {
                node = HashChildren(stack[--top], node);
            }

            stack[top++] = node;
        }

        // Fold the remaining subtrees right to left: the right edge of an unbalanced tree.
        var root = stack[--top];
        while (top > 0)
        {
            root = HashChildren(stack[--top], root);
        }

        return root;
    }

    /// <summary>PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path, nearest sibling first.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="leafIndex"/> is not an index of <paramref name="leafHashes"/>.</exception>
    public static Hash32[] CreateInclusionProof(ReadOnlySpan<Hash32> leafHashes, long leafIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, leafHashes.Length);

        // Walk from the root down to the leaf, collecting the sibling of each step; the proof lists them bottom up.
        Span<Hash32> siblings = stackalloc Hash32[MaxDepth];
        var count = 0;
        var index = (int)leafIndex;
        var low = 0;
        var high = leafHashes.Length;
        while (high - low > 1)
        {
            var split = LargestPowerOfTwoBelow(high - low);
            if (index - low < split)
            {
                siblings[count++] = ComputeRoot(leafHashes[(low + split)..high]);
                high = low + split;
            }
            else
            {
                siblings[count++] = ComputeRoot(leafHashes[low..(low + split)]);
                low += split;
            }
        }

        return Reversed(siblings[..count]);
    }

    /// <summary>PROOF(m, D[n]) of RFC 9162 section 2.1.4.1, m = <paramref name="oldSize"/>, n = leafHashes.Length.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="oldSize"/> is not in 1..n.</exception>
    public static Hash32[] CreateConsistencyProof(ReadOnlySpan<Hash32> leafHashes, long oldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(oldSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, leafHashes.Length);

        // SUBPROOF(m, D[low:high], b), unrolled from the top; the proof lists the collected nodes bottom up.
        Span<Hash32> nodes = stackalloc Hash32[MaxDepth + 1];
        var count = 0;
        var m = (int)oldSize;
        var low = 0;
        var high = leafHashes.Length;
        var wholeOldTree = true;
        while (m != high - low)
        {
            var split = LargestPowerOfTwoBelow(high - low);
            if (m <= split)
            {
                nodes[count++] = ComputeRoot(leafHashes[(low + split)..high]);
                high = low + split;
            }
            else
            {
                nodes[count++] = ComputeRoot(leafHashes[low..(low + split)]);
                low += split;
                m -= split;
                wholeOldTree = false;
            }
        }

        if (!wholeOldTree)
        {
            nodes[count++] = ComputeRoot(leafHashes[low..high]);
        }

        return Reversed(nodes[..count]);
    }

    /// <summary>Verifies an inclusion proof (RFC 9162 section 2.1.3.2).</summary>
    /// <exception cref="MerkleProofException">The proof does not prove inclusion of the leaf in the tree with that root.</exception>
    public static void VerifyInclusion(long leafIndex, long treeSize, in Hash32 leafHash, ReadOnlySpan<Hash32> proof, in Hash32 root)
    {
        var failure = CheckInclusion(leafIndex, treeSize, leafHash, proof, out var computed);
        if (failure == Failure.None && !computed.Equals(root))
        {
            throw new MerkleProofException(
                $"Inclusion proof for leaf {leafIndex} of {treeSize} leads to root {computed}, expected {root}.",
                root,
                computed);
        }

        ThrowIfFailed(failure, leafIndex, treeSize, proof.Length, inclusion: true);
    }

    /// <summary>As <see cref="VerifyInclusion"/>, returning false instead of throwing.</summary>
    public static bool TryVerifyInclusion(long leafIndex, long treeSize, in Hash32 leafHash, ReadOnlySpan<Hash32> proof, in Hash32 root) =>
        CheckInclusion(leafIndex, treeSize, leafHash, proof, out var computed) == Failure.None && computed.Equals(root);

    /// <summary>The root an inclusion proof leads to (RFC 9162 section 2.1.3.2, steps 1 to 4 and the size check of step 5).</summary>
    /// <exception cref="MerkleProofException">The index, size and proof length do not fit together.</exception>
    public static Hash32 RootFromInclusionProof(long leafIndex, long treeSize, in Hash32 leafHash, ReadOnlySpan<Hash32> proof)
    {
        ThrowIfFailed(CheckInclusion(leafIndex, treeSize, leafHash, proof, out var computed), leafIndex, treeSize, proof.Length, inclusion: true);
        return computed;
    }

    /// <summary>Verifies a consistency proof (RFC 9162 section 2.1.4.2). Both sizes must be at least 1.</summary>
    /// <exception cref="MerkleProofException">The proof does not show that the old tree is a prefix of the new one.</exception>
    public static void VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<Hash32> proof, in Hash32 oldRoot, in Hash32 newRoot)
    {
        var failure = CheckConsistency(oldSize, newSize, proof, oldRoot, out var computedOld, out var computedNew);
        if (failure == Failure.None)
        {
            if (!computedOld.Equals(oldRoot))
            {
                throw new MerkleProofException(
                    $"Consistency proof {oldSize} -> {newSize} leads to old root {computedOld}, expected {oldRoot}.",
                    oldRoot,
                    computedOld);
            }

            if (!computedNew.Equals(newRoot))
            {
                throw new MerkleProofException(
                    $"Consistency proof {oldSize} -> {newSize} leads to new root {computedNew}, expected {newRoot}.",
                    newRoot,
                    computedNew);
            }
        }

        ThrowIfFailed(failure, oldSize, newSize, proof.Length, inclusion: false);
    }

    /// <summary>As <see cref="VerifyConsistency"/>, returning false instead of throwing.</summary>
    public static bool TryVerifyConsistency(long oldSize, long newSize, ReadOnlySpan<Hash32> proof, in Hash32 oldRoot, in Hash32 newRoot) =>
        CheckConsistency(oldSize, newSize, proof, oldRoot, out var computedOld, out var computedNew) == Failure.None
        && computedOld.Equals(oldRoot)
        && computedNew.Equals(newRoot);

    private enum Failure
    {
        None,
        IndexOutsideTree,
        ProofTooLong,
        ProofTooShort,
        EmptyTree,
        SizesOutOfOrder,
        EqualSizesNeedEmptyProof,
        EmptyProof,
    }

    private static void ThrowIfFailed(Failure failure, long first, long second, int proofLength, bool inclusion)
    {
        if (failure == Failure.None)
        {
            return;
        }

        var needs = inclusion
            ? $"leaf {first} of a tree of size {second} needs"
            : $"a consistency proof from size {first} to {second} needs";

        throw new MerkleProofException(failure switch
        {
            Failure.IndexOutsideTree => $"Leaf index {first} is not inside a tree of size {second}.",
            Failure.ProofTooLong => $"The proof has {proofLength} elements, more than {needs}.",
            Failure.ProofTooShort => $"The proof has {proofLength} elements, fewer than {needs}.",
            Failure.EmptyTree => $"Consistency needs two non-empty trees; sizes are {first} and {second}.",
            Failure.SizesOutOfOrder => $"Old size {first} is larger than new size {second}.",
            Failure.EqualSizesNeedEmptyProof => "Trees of equal size need an empty consistency proof.",
            _ => "The consistency proof is empty.",
        });
    }

    // RFC 9162 2.1.3.2 steps 1-4 and the sn == 0 check of step 5; the root comparison is left to the caller.
    private static Failure CheckInclusion(long leafIndex, long treeSize, in Hash32 leafHash, ReadOnlySpan<Hash32> proof, out Hash32 root)
    {
        root = default;
        if (leafIndex < 0 || treeSize <= 0 || leafIndex >= treeSize)
        {
            return Failure.IndexOutsideTree;
        }

        var fn = leafIndex;
        var sn = treeSize - 1;
        var r = leafHash;
        foreach (ref readonly var p in proof)
        {
            if (sn == 0)
            {
                return Failure.ProofTooLong;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = HashChildren(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = HashChildren(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return Failure.ProofTooShort;
        }

        root = r;
        return Failure.None;
    }

    // RFC 9162 2.1.4.2; the two root comparisons are left to the caller. Equal sizes need an empty proof and equal roots.
    private static Failure CheckConsistency(
        long oldSize, long newSize, ReadOnlySpan<Hash32> proof, in Hash32 oldRoot, out Hash32 computedOld, out Hash32 computedNew)
    {
        computedOld = default;
        computedNew = default;
        if (oldSize <= 0 || newSize <= 0)
        {
            return Failure.EmptyTree;
        }

        if (oldSize > newSize)
        {
            return Failure.SizesOutOfOrder;
        }

        if (oldSize == newSize)
        {
            if (!proof.IsEmpty)
            {
                return Failure.EqualSizesNeedEmptyProof;
            }

            // Nothing to compute: the new tree is the old tree.
            computedOld = oldRoot;
            computedNew = oldRoot;
            return Failure.None;
        }

        if (proof.IsEmpty)
        {
            return Failure.EmptyProof;
        }

        // Step 2: when the old tree is a complete subtree its root is prepended to the path.
        var next = 0;
        Hash32 fr;
        if ((oldSize & (oldSize - 1)) == 0)
        {
            fr = oldRoot;
        }
        else
        {
            fr = proof[0];
            next = 1;
        }

        var sr = fr;
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        for (; next < proof.Length; next++)
        {
            ref readonly var c = ref proof[next];
            if (sn == 0)
            {
                return Failure.ProofTooLong;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = HashChildren(c, fr);
                sr = HashChildren(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = HashChildren(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return Failure.ProofTooShort;
        }

        computedOld = fr;
        computedNew = sr;
        return Failure.None;
    }

    // The largest power of two strictly smaller than n (n >= 2).
    private static int LargestPowerOfTwoBelow(int n) => 1 << (31 - BitOperations.LeadingZeroCount((uint)(n - 1)));

    private static Hash32[] Reversed(ReadOnlySpan<Hash32> nodes)
    {
        var result = new Hash32[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            result[i] = nodes[nodes.Length - 1 - i];
        }

        return result;
    }
}
