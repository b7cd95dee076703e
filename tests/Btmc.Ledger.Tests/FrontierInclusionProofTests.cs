using System.Text;
using Xunit;

namespace Btmc.Ledger.Tests;

public sealed class FrontierInclusionProofTests
{
    private static Hash32[] Leaves(int count) =>
        Enumerable.Range(0, count).Select(i => MerkleTree.HashLeaf(Encoding.UTF8.GetBytes($"leaf {i}"))).ToArray();

    [Fact]
    public void Create_EverySplitOfEveryTreeUpTo40_EqualsTheProofOverAllLeaves()
    {
        var all = Leaves(40);
        for (var size = 1; size <= all.Length; size++)
        {
            for (var start = 0; start < size; start++)
            {
                var frontier = new MerkleFrontier();
                frontier.Append(all.AsSpan(0, start));
                for (var leaf = start; leaf < size; leaf++)
                {
                    var proof = FrontierInclusionProof.Create(frontier, all.AsSpan(start, size - start), leaf);

                    Assert.Equal(MerkleTree.CreateInclusionProof(all.AsSpan(0, size), leaf), proof);
                    MerkleTree.VerifyInclusion(leaf, size, all[leaf], proof, MerkleTree.ComputeRoot(all.AsSpan(0, size)));
                }
            }
        }
    }

    [Fact]
    public void Create_LargeFrontierSmallBlock_MatchesTheFullProof()
    {
        var all = Leaves(1000);
        var frontier = new MerkleFrontier();
        frontier.Append(all.AsSpan(0, 997));

        var proof = FrontierInclusionProof.Create(frontier, all.AsSpan(997), 998);

        Assert.Equal(MerkleTree.CreateInclusionProof(all, 998), proof);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    public void Create_LeafOutsideTheNewLeaves_Refused(long leaf)
    {
        var all = Leaves(7);
        var frontier = new MerkleFrontier();
        frontier.Append(all.AsSpan(0, 5));

        Assert.Throws<ArgumentOutOfRangeException>(() => FrontierInclusionProof.Create(frontier, all.AsSpan(5), leaf));
    }
}
