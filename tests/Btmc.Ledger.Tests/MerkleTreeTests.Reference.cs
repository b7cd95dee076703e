using Xunit;

namespace Btmc.Ledger.Tests;

// Cross-checks against ReferenceMerkleTree (naive recursive RFC 9162 definitions) for every size 1..70.
public sealed partial class MerkleTreeTests
{
    private const int MaxReferenceSize = 70;

    private static readonly Lazy<(Hash32[] Leaves, List<byte[]> ReferenceLeaves)> s_referenceTree = new(() =>
    {
        var leaves = new Hash32[MaxReferenceSize];
        var referenceLeaves = new List<byte[]>(MaxReferenceSize);
        for (var i = 0; i < MaxReferenceSize; i++)
        {
            var data = System.Text.Encoding.UTF8.GetBytes($"leaf {i}");
            leaves[i] = MerkleTree.HashLeaf(data);
            referenceLeaves.Add(ReferenceMerkleTree.LeafHash(data));
        }

        return (leaves, referenceLeaves);
    });

    private static Hash32[] RefLeaves(int n) => s_referenceTree.Value.Leaves[..n];

    private static List<byte[]> RefReferenceLeaves(int n) => s_referenceTree.Value.ReferenceLeaves.GetRange(0, n);

    [Fact]
    public void ComputeRoot_AllSizes0To70_MatchesReferenceMth()
    {
        for (var n = 0; n <= MaxReferenceSize; n++)
        {
            var expected = ReferenceMerkleTree.Mth(RefReferenceLeaves(n));

            Assert.Equal(Convert.ToHexStringLower(expected), MerkleTree.ComputeRoot(RefLeaves(n)).ToHex());
        }
    }

    [Fact]
    public void CreateInclusionProof_AllSizesAndIndices_MatchesReferencePath()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            for (var m = 0; m < n; m++)
            {
                var expected = ReferenceMerkleTree.Path(m, RefReferenceLeaves(n));

                Assert.Equal(Hex(expected), Hex(MerkleTree.CreateInclusionProof(RefLeaves(n), m)));
            }
        }
    }

    [Fact]
    public void CreateConsistencyProof_AllSizesAndOldSizes_MatchesReferenceProof()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            for (var m = 1; m <= n; m++)
            {
                var expected = ReferenceMerkleTree.Proof(m, RefReferenceLeaves(n));

                Assert.Equal(Hex(expected), Hex(MerkleTree.CreateConsistencyProof(RefLeaves(n), m)));
            }
        }
    }

    [Fact]
    public void VerifyInclusion_EveryGeneratedProof_Verifies()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var root = MerkleTree.ComputeRoot(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.CreateInclusionProof(leaves, m);

                MerkleTree.VerifyInclusion(m, n, leaves[m], proof, root);
                Assert.True(MerkleTree.TryVerifyInclusion(m, n, leaves[m], proof, root), $"leaf {m} of {n}");
            }
        }
    }

    [Fact]
    public void VerifyInclusion_FlippedBitInAnyByteOfProof_Fails()
    {
        // One bit in every byte of every element (the bit position rotates with the byte), for every size and
        // index up to the reference size: about 2.5 million hashes; sizes run in parallel.
        Parallel.For(2, MaxReferenceSize + 1, n =>
        {
            var leaves = RefLeaves(n);
            var root = MerkleTree.ComputeRoot(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.CreateInclusionProof(leaves, m);
                for (var element = 0; element < proof.Length; element++)
                {
                    for (var b = 0; b < Hash32.Size; b++)
                    {
                        var bit = (b * 8) + ((b + element) % 8);
                        var tampered = WithFlippedBit(proof, element, bit);

                        if (MerkleTree.TryVerifyInclusion(m, n, leaves[m], tampered, root))
                        {
                            Assert.Fail($"leaf {m} of {n}: bit {bit} of element {element} flipped, still verifies");
                        }
                    }
                }

                // The throwing form reports the same failure as a typed exception.
                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, leaves[m], WithFlippedBit(proof, 0, 0), root));
            }
        });
    }

    [Fact]
    public void VerifyInclusion_TruncatedOrExtendedProof_Fails()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var root = MerkleTree.ComputeRoot(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.CreateInclusionProof(leaves, m);
                Hash32[] extendedWithRoot = [.. proof, root];
                Hash32[] extendedWithLeaf = [.. proof, leaves[m]];
                Hash32[] prefixedWithLeaf = [leaves[m], .. proof];

                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, leaves[m], extendedWithRoot, root));
                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, leaves[m], extendedWithLeaf, root));
                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, leaves[m], prefixedWithLeaf, root));
                for (var length = 0; length < proof.Length; length++)
                {
                    var truncated = proof[..length];
                    Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, leaves[m], truncated, root));
                }
            }
        }
    }

    [Fact]
    public void VerifyInclusion_WrongLeafIndex_Fails()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var root = MerkleTree.ComputeRoot(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.CreateInclusionProof(leaves, m);
                for (long wrong = -1; wrong <= n; wrong++)
                {
                    if (wrong == m)
                    {
                        continue;
                    }

                    Assert.False(MerkleTree.TryVerifyInclusion(wrong, n, leaves[m], proof, root), $"leaf {m} of {n} claimed as {wrong}");
                }

                // The leaf hash itself is bound too: another leaf with the same proof does not verify.
                var otherLeaf = leaves[(m + 1) % n];
                if (n > 1)
                {
                    Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(m, n, otherLeaf, proof, root));
                }
            }
        }
    }

    // The RFC 9162 algorithm binds the tree size only through the shape of the path (its length and the side of each
    // sibling). A proof for (m, n) therefore still verifies against the same root for (m, n±1) exactly when the two
    // trees give leaf m the same path shape (e.g. leaf 0 in trees of size 5 and 6). The size is authenticated by the
    // signed tree head, not by the proof. This test pins that: the library accepts a size±1 claim if and only if the
    // independent recursive reference does, and the reference accepts exactly the same-shape cases.
    [Fact]
    public void VerifyInclusion_TreeSizeOffByOne_FailsUnlessPathShapeIsIdentical()
    {
        var sameShapeAccepted = 0;
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var root = MerkleTree.ComputeRoot(leaves);
            var referenceLeaves = RefReferenceLeaves(n);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleTree.CreateInclusionProof(leaves, m);
                var referenceProof = ReferenceMerkleTree.Path(m, referenceLeaves);
                foreach (var claimedSize in (long[])[n - 1, n + 1])
                {
                    var library = MerkleTree.TryVerifyInclusion(m, claimedSize, leaves[m], proof, root);
                    var referenceRoot = ReferenceMerkleTree.RootFromPath(m, claimedSize, referenceLeaves[m], referenceProof);
                    var reference = referenceRoot is not null && Convert.ToHexStringLower(referenceRoot) == root.ToHex();

                    Assert.True(library == reference, $"leaf {m} of {n} claimed in size {claimedSize}: library {library}, reference {reference}");
                    Assert.True(!library || SamePathShape(m, n, claimedSize), $"leaf {m} of {n} accepted in size {claimedSize} with a different path shape");
                    sameShapeAccepted += library ? 1 : 0;
                }
            }
        }

        Assert.True(sameShapeAccepted > 0, "expected some same-shape size±1 claims (e.g. leaf 0 of 5 vs 6) to verify");
    }

    [Fact]
    public void VerifyConsistency_EveryGeneratedProof_Verifies()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var newRoot = MerkleTree.ComputeRoot(leaves);
            for (var m = 1; m <= n; m++)
            {
                var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, m));
                var proof = MerkleTree.CreateConsistencyProof(leaves, m);

                MerkleTree.VerifyConsistency(m, n, proof, oldRoot, newRoot);
                Assert.True(MerkleTree.TryVerifyConsistency(m, n, proof, oldRoot, newRoot), $"{m} -> {n}");
                Assert.True(
                    ReferenceMerkleTree.VerifyProof(m, n, [.. proof.Select(h => h.ToArray())], oldRoot.ToArray(), newRoot.ToArray()),
                    $"reference rejects {m} -> {n}");
            }
        }
    }

    [Fact]
    public void VerifyConsistency_FlippedBitInAnyByteOfProof_Fails()
    {
        // One bit in every byte of every element (the bit position rotates with the byte), for every size and
        // index up to the reference size: about 2.5 million hashes; sizes run in parallel.
        Parallel.For(2, MaxReferenceSize + 1, n =>
        {
            var leaves = RefLeaves(n);
            var newRoot = MerkleTree.ComputeRoot(leaves);
            for (var m = 1; m < n; m++)
            {
                var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, m));
                var proof = MerkleTree.CreateConsistencyProof(leaves, m);
                for (var element = 0; element < proof.Length; element++)
                {
                    for (var b = 0; b < Hash32.Size; b++)
                    {
                        var bit = (b * 8) + ((b + element) % 8);
                        var tampered = WithFlippedBit(proof, element, bit);

                        if (MerkleTree.TryVerifyConsistency(m, n, tampered, oldRoot, newRoot))
                        {
                            Assert.Fail($"{m} -> {n}: bit {bit} of element {element} flipped, still verifies");
                        }
                    }
                }

                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(m, n, WithFlippedBit(proof, 0, 0), oldRoot, newRoot));
            }
        });
    }

    [Fact]
    public void VerifyConsistency_TruncatedOrExtendedProof_Fails()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var newRoot = MerkleTree.ComputeRoot(leaves);
            for (var m = 1; m <= n; m++)
            {
                var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, m));
                var proof = MerkleTree.CreateConsistencyProof(leaves, m);
                Hash32[] extendedWithOldRoot = [.. proof, oldRoot];
                Hash32[] extendedWithNewRoot = [.. proof, newRoot];
                Hash32[] prefixedWithOldRoot = [oldRoot, .. proof];

                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(m, n, extendedWithOldRoot, oldRoot, newRoot));
                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(m, n, extendedWithNewRoot, oldRoot, newRoot));
                Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(m, n, prefixedWithOldRoot, oldRoot, newRoot));
                for (var length = 0; length < proof.Length; length++)
                {
                    var truncated = proof[..length];
                    Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(m, n, truncated, oldRoot, newRoot));
                }
            }
        }
    }

    // As for inclusion, sizes are bound only through the proof's shape; the library must agree with the independent
    // recursive reference verifier on every old/new size ±1 claim, and the claims must fail whenever the reference
    // proof for the claimed sizes has a different length (a different shape).
    [Fact]
    public void VerifyConsistency_SizeOffByOne_FailsUnlessReferenceAccepts()
    {
        for (var n = 1; n <= MaxReferenceSize; n++)
        {
            var leaves = RefLeaves(n);
            var newRoot = MerkleTree.ComputeRoot(leaves);
            for (var m = 1; m <= n; m++)
            {
                var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, m));
                var proof = MerkleTree.CreateConsistencyProof(leaves, m);
                var referenceProof = proof.Select(h => h.ToArray()).ToList();
                foreach (var (claimedOld, claimedNew) in ((long, long)[])[(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)])
                {
                    var library = MerkleTree.TryVerifyConsistency(claimedOld, claimedNew, proof, oldRoot, newRoot);
                    var reference = ReferenceMerkleTree.VerifyProof(claimedOld, claimedNew, referenceProof, oldRoot.ToArray(), newRoot.ToArray());

                    Assert.True(library == reference, $"{m} -> {n} claimed as {claimedOld} -> {claimedNew}: library {library}, reference {reference}");
                    if (library)
                    {
                        Assert.Equal(proof.Length, ProofLength(claimedOld, claimedNew));
                    }
                }
            }
        }
    }

    private static bool SamePathShape(long m, long n, long otherSize)
    {
        if (otherSize <= m)
        {
            return false;
        }

        var a = PathShape((int)m, (int)n);
        var b = PathShape((int)m, (int)otherSize);
        return a.SequenceEqual(b);

        // Side of each sibling, bottom up, per the PATH recursion (true: sibling on the right).
        static List<bool> PathShape(int index, int size)
        {
            var sides = new List<bool>();
            while (size > 1)
            {
                var k = 1;
                while (k * 2 < size)
                {
                    k *= 2;
                }

                if (index < k)
                {
                    sides.Insert(0, true);
                    size = k;
                }
                else
                {
                    sides.Insert(0, false);
                    index -= k;
                    size -= k;
                }
            }

            return sides;
        }
    }

    private static int ProofLength(long m, long n)
    {
        if (m <= 0 || m > n || n > MaxReferenceSize + 1)
        {
            return -1;
        }

        var leaves = new List<byte[]>(RefReferenceLeaves(MaxReferenceSize)) { new byte[32] };
        return ReferenceMerkleTree.Proof((int)m, leaves.GetRange(0, (int)n)).Count;
    }

    private static Hash32[] WithFlippedBit(Hash32[] proof, int element, int bit)
    {
        var copy = (Hash32[])proof.Clone();
        var bytes = copy[element].ToArray();
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        copy[element] = new Hash32(bytes);
        return copy;
    }

    private static string[] Hex(IEnumerable<byte[]> nodes) => [.. nodes.Select(Convert.ToHexStringLower)];

    private static string[] Hex(IEnumerable<Hash32> nodes) => [.. nodes.Select(h => h.ToHex())];
}
