using Xunit;

namespace Btmc.Ledger.Tests;

public class MerkleFrontierTests
{
    private static Hash32[] Leaves(int count) =>
        Enumerable.Range(0, count).Select(i => MerkleTree.HashLeaf(BitConverter.GetBytes(i))).ToArray();

    [Fact]
    public void ComputeRoot_EverySizeTo300_EqualsTheReferenceTreeRoot()
    {
        var leaves = Leaves(300);
        var frontier = new MerkleFrontier();
        Assert.Equal(MerkleTree.EmptyRoot, frontier.ComputeRoot());
        for (var n = 1; n <= leaves.Length; n++)
        {
            frontier.Append(leaves[n - 1]);
            Assert.Equal(n, frontier.Size);
            Assert.Equal(System.Numerics.BitOperations.PopCount((uint)n), frontier.Nodes.Count);
            Assert.Equal(MerkleTree.ComputeRoot(leaves.Take(n).ToArray()), frontier.ComputeRoot());
        }
    }

    [Fact]
    public void Decode_EncodedFrontier_AppendsOnToTheSameRoots()
    {
        var leaves = Leaves(77);
        var frontier = new MerkleFrontier();
        frontier.Append(leaves.AsSpan(0, 45));
        var restored = MerkleFrontier.Decode(45, frontier.Encode());
        restored.Append(leaves.AsSpan(45));
        Assert.Equal(MerkleTree.ComputeRoot(leaves), restored.ComputeRoot());
    }

    [Theory]
    [InlineData(45, 3)]
    [InlineData(4, 2)]
    [InlineData(0, 1)]
    public void Decode_WrongNumberOfNodes_ThrowsFormatException(long size, int nodes)
    {
        Assert.Throws<FormatException>(() => MerkleFrontier.Decode(size, new byte[nodes * Hash32.Size]));
        Assert.Throws<ArgumentException>(() => MerkleFrontier.FromNodes(size, Leaves(nodes)));
    }

    [Fact]
    public void Clone_AppendToTheCopy_LeavesTheOriginalAlone()
    {
        var frontier = new MerkleFrontier();
        frontier.Append(Leaves(5));
        var root = frontier.ComputeRoot();
        var copy = frontier.Clone();
        copy.Append(Leaves(1)[0]);
        Assert.Equal(root, frontier.ComputeRoot());
        Assert.Equal(5, frontier.Size);
    }
}
