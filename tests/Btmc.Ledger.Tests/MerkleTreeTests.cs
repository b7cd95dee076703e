using System.Security.Cryptography;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed partial class MerkleTreeTests
{
    // The eight leaves of the certificate-transparency reference test tree
    // (certificate-transparency merkle_tree_test; also transparency-dev/merkle testonly).
    private static readonly string[] s_ctLeavesHex =
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    [Theory]
    [InlineData(1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]
    [InlineData(2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]
    [InlineData(3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77")]
    [InlineData(4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4")]
    [InlineData(6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef")]
    [InlineData(7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c")]
    [InlineData(8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
    public void ComputeRoot_CertificateTransparencyMerkleTreeTestLeaves_MatchesPublishedRfc6962Root(int size, string expectedRootHex)
    {
        var leaves = new Hash32[size];
        for (var i = 0; i < size; i++)
        {
            leaves[i] = MerkleTree.HashLeaf(Convert.FromHexString(s_ctLeavesHex[i]));
        }

        Assert.Equal(expectedRootHex, MerkleTree.ComputeRoot(leaves).ToHex());
    }

    [Fact]
    public void EmptyRoot_Always_IsSha256OfEmptyString()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", MerkleTree.EmptyRoot.ToHex());
    }

    [Fact]
    public void ComputeRoot_NoLeaves_ReturnsEmptyRoot()
    {
        Assert.Equal(MerkleTree.EmptyRoot, MerkleTree.ComputeRoot([]));
    }

    [Fact]
    public void ComputeRoot_OneLeaf_ReturnsTheLeafHash()
    {
        var leaf = MerkleTree.HashLeaf("x"u8);

        Assert.Equal(leaf, MerkleTree.ComputeRoot([leaf]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(70_000)]
    public void HashLeaf_AnyLength_IsSha256OfZeroPrefixAndData(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        var expected = SHA256.HashData([MerkleTree.LeafPrefix, .. data]);

        Assert.Equal(expected, MerkleTree.HashLeaf(data).ToArray());
    }

    [Fact]
    public void HashChildren_TwoHashes_IsSha256OfOnePrefixLeftRight()
    {
        var left = Hash32.Compute("left"u8);
        var right = Hash32.Compute("right"u8);
        var expected = SHA256.HashData([MerkleTree.NodePrefix, .. left.ToArray(), .. right.ToArray()]);

        Assert.Equal(expected, MerkleTree.HashChildren(left, right).ToArray());
    }

    [Fact]
    public void HashChildren_SwappedChildren_GivesDifferentHash()
    {
        var left = Hash32.Compute("left"u8);
        var right = Hash32.Compute("right"u8);

        Assert.NotEqual(MerkleTree.HashChildren(left, right), MerkleTree.HashChildren(right, left));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, -1)]
    [InlineData(3, 3)]
    [InlineData(3, long.MaxValue)]
    public void CreateInclusionProof_IndexOutsideTree_ThrowsArgumentOutOfRange(int size, long index)
    {
        var leaves = Leaves(size);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.CreateInclusionProof(leaves, index));
        Assert.Equal("leafIndex", ex.ParamName);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 0)]
    [InlineData(3, -1)]
    [InlineData(3, 4)]
    public void CreateConsistencyProof_OldSizeOutside1ToN_ThrowsArgumentOutOfRange(int size, long oldSize)
    {
        var leaves = Leaves(size);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.CreateConsistencyProof(leaves, oldSize));
        Assert.Equal("oldSize", ex.ParamName);
    }

    [Fact]
    public void CreateConsistencyProof_OldSizeEqualsNewSize_ReturnsEmptyProof()
    {
        Assert.Empty(MerkleTree.CreateConsistencyProof(Leaves(5), 5));
    }

    [Fact]
    public void VerifyInclusion_WrongRoot_ThrowsWithExpectedAndComputedRoots()
    {
        var leaves = Leaves(5);
        var proof = MerkleTree.CreateInclusionProof(leaves, 2);
        var root = MerkleTree.ComputeRoot(leaves);
        var wrongRoot = Hash32.Compute("not the root"u8);

        var ex = Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(2, 5, leaves[2], proof, wrongRoot));

        Assert.Equal(wrongRoot, ex.ExpectedRoot);
        Assert.Equal(root, ex.ComputedRoot);
    }

    [Fact]
    public void VerifyInclusion_MalformedProof_ThrowsWithoutRoots()
    {
        var leaves = Leaves(5);
        var root = MerkleTree.ComputeRoot(leaves);

        var ex = Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyInclusion(2, 5, leaves[2], [], root));

        Assert.Null(ex.ExpectedRoot);
        Assert.Null(ex.ComputedRoot);
    }

    [Fact]
    public void RootFromInclusionProof_ValidProof_ReturnsTreeRoot()
    {
        var leaves = Leaves(11);
        var proof = MerkleTree.CreateInclusionProof(leaves, 9);

        Assert.Equal(MerkleTree.ComputeRoot(leaves), MerkleTree.RootFromInclusionProof(9, 11, leaves[9], proof));
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(5, 5)]
    [InlineData(0, 0)]
    [InlineData(0, -1)]
    public void RootFromInclusionProof_IndexOutsideTree_ThrowsMerkleProofException(long index, long size)
    {
        Assert.Throws<MerkleProofException>(() => MerkleTree.RootFromInclusionProof(index, size, Hash32.Zero, []));
    }

    [Fact]
    public void VerifyConsistency_WrongNewRoot_ThrowsWithExpectedAndComputedRoots()
    {
        var leaves = Leaves(7);
        var proof = MerkleTree.CreateConsistencyProof(leaves, 3);
        var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, 3));
        var newRoot = MerkleTree.ComputeRoot(leaves);
        var wrongRoot = Hash32.Compute("not the root"u8);

        var ex = Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(3, 7, proof, oldRoot, wrongRoot));

        Assert.Equal(wrongRoot, ex.ExpectedRoot);
        Assert.Equal(newRoot, ex.ComputedRoot);
    }

    [Fact]
    public void VerifyConsistency_WrongOldRoot_ThrowsWithExpectedAndComputedRoots()
    {
        var leaves = Leaves(7);
        var proof = MerkleTree.CreateConsistencyProof(leaves, 3);
        var oldRoot = MerkleTree.ComputeRoot(leaves.AsSpan(0, 3));
        var newRoot = MerkleTree.ComputeRoot(leaves);
        var wrongRoot = Hash32.Compute("not the root"u8);

        var ex = Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(3, 7, proof, wrongRoot, newRoot));

        Assert.Equal(wrongRoot, ex.ExpectedRoot);
        Assert.Equal(oldRoot, ex.ComputedRoot);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(6, 5)]
    public void VerifyConsistency_SizesOutOfOrderOrEmpty_ThrowsMerkleProofException(long oldSize, long newSize)
    {
        var root = MerkleTree.ComputeRoot(Leaves(5));

        Assert.Throws<MerkleProofException>(() => MerkleTree.VerifyConsistency(oldSize, newSize, [], root, root));
    }

    [Fact]
    public void VerifyConsistency_EqualSizesEqualRootsEmptyProof_Succeeds()
    {
        var root = MerkleTree.ComputeRoot(Leaves(5));

        var error = Record.Exception(() => MerkleTree.VerifyConsistency(5, 5, [], root, root));

        Assert.Null(error);
    }

    private static Hash32[] Leaves(int count)
    {
        var leaves = new Hash32[count];
        for (var i = 0; i < count; i++)
        {
            leaves[i] = MerkleTree.HashLeaf(BitConverter.GetBytes(i));
        }

        return leaves;
    }
}
