using System.Security.Cryptography;

namespace Btmc.Ledger.Tests;

/// <summary>
/// A deliberately naive, recursive transcription of the RFC 9162 section 2.1 definitions (MTH, PATH, PROOF/SUBPROOF)
/// over byte arrays, with its own SHA-256 calls, used only to cross-check <see cref="MerkleTree"/>.
/// </summary>
internal static class ReferenceMerkleTree
{
    public static byte[] LeafHash(byte[] data) => SHA256.HashData([0x00, .. data]);

    // MTH(D[n]) over leaf hashes (the leaf hashing step is done by the caller).
    public static byte[] Mth(List<byte[]> d)
    {
        var n = d.Count;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return d[0];
        }

        var k = LargestPowerOfTwoLessThan(n);
        return Node(Mth(d.GetRange(0, k)), Mth(d.GetRange(k, n - k)));
    }

    // PATH(m, D[n]).
    public static List<byte[]> Path(int m, List<byte[]> d)
    {
        var n = d.Count;
        if (n == 1)
        {
            return [];
        }

        var k = LargestPowerOfTwoLessThan(n);
        return m < k
            ? [.. Path(m, d.GetRange(0, k)), Mth(d.GetRange(k, n - k))]
            : [.. Path(m - k, d.GetRange(k, n - k)), Mth(d.GetRange(0, k))];
    }

    // PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    public static List<byte[]> Proof(int m, List<byte[]> d) => SubProof(m, d, true);

    private static List<byte[]> SubProof(int m, List<byte[]> d, bool b)
    {
        var n = d.Count;
        if (m == n)
        {
            return b ? [] : [Mth(d)];
        }

        var k = LargestPowerOfTwoLessThan(n);
        return m <= k
            ? [.. SubProof(m, d.GetRange(0, k), b), Mth(d.GetRange(k, n - k))]
            : [.. SubProof(m - k, d.GetRange(k, n - k), false), Mth(d.GetRange(0, k))];
    }

    // Recomputes the root from a PATH by following the PATH recursion top-down (the last element is the top sibling).
    // Null when the index is outside the tree or the path length does not fit the tree shape.
    public static byte[]? RootFromPath(long m, long n, byte[] leaf, List<byte[]> path)
    {
        if (m < 0 || n <= 0 || m >= n)
        {
            return null;
        }

        var remaining = new List<byte[]>(path);
        var root = RootFromPathCore((int)m, (int)n, leaf, remaining);
        return root is not null && remaining.Count == 0 ? root : null;
    }

    // Checks a PROOF by following the SUBPROOF recursion top-down, rebuilding both roots.
    // Sizes must satisfy 0 < m <= n; m == n needs an empty proof and equal roots.
    public static bool VerifyProof(long m, long n, List<byte[]> proof, byte[] oldRoot, byte[] newRoot)
    {
        if (m <= 0 || m > n)
        {
            return false;
        }

        if (m == n)
        {
            return proof.Count == 0 && oldRoot.AsSpan().SequenceEqual(newRoot);
        }

        var remaining = new List<byte[]>(proof);
        var roots = SubProofRoots((int)m, (int)n, true, oldRoot, remaining);
        return roots is { } r
            && remaining.Count == 0
            && r.Old.AsSpan().SequenceEqual(oldRoot)
            && r.New.AsSpan().SequenceEqual(newRoot);
    }

    private static byte[]? RootFromPathCore(int m, int n, byte[] leaf, List<byte[]> remaining)
    {
        if (n == 1)
        {
            return leaf;
        }

        if (remaining.Count == 0)
        {
            return null;
        }

        var k = LargestPowerOfTwoLessThan(n);
        var sibling = Pop(remaining);
        if (m < k)
        {
            var left = RootFromPathCore(m, k, leaf, remaining);
            return left is null ? null : Node(left, sibling);
        }

        var right = RootFromPathCore(m - k, n - k, leaf, remaining);
        return right is null ? null : Node(sibling, right);
    }

    private static (byte[] Old, byte[] New)? SubProofRoots(int m, int n, bool b, byte[] oldRoot, List<byte[]> remaining)
    {
        if (m == n)
        {
            if (b)
            {
                return (oldRoot, oldRoot);
            }

            if (remaining.Count == 0)
            {
                return null;
            }

            var subtree = Pop(remaining);
            return (subtree, subtree);
        }

        if (remaining.Count == 0)
        {
            return null;
        }

        var k = LargestPowerOfTwoLessThan(n);
        var sibling = Pop(remaining);
        if (m <= k)
        {
            var inner = SubProofRoots(m, k, b, oldRoot, remaining);
            return inner is { } l ? (l.Old, Node(l.New, sibling)) : null;
        }

        var right = SubProofRoots(m - k, n - k, false, oldRoot, remaining);
        return right is { } r ? (Node(sibling, r.Old), Node(sibling, r.New)) : null;
    }

    private static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    private static byte[] Pop(List<byte[]> list)
    {
        var last = list[^1];
        list.RemoveAt(list.Count - 1);
        return last;
    }

    private static int LargestPowerOfTwoLessThan(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
