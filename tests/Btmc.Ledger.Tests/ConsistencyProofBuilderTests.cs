using Xunit;

namespace Btmc.Ledger.Tests;

public class ConsistencyProofBuilderTests
{
    private static Hash32[] Leaves(int count) =>
        Enumerable.Range(0, count).Select(i => MerkleTree.HashLeaf(BitConverter.GetBytes(i * 7919))).ToArray();

    private static Hash32[] Build(Hash32[] leaves, int m, int n)
    {
        var old = new MerkleFrontier();
        old.Append(leaves.AsSpan(0, m));
        var builder = new ConsistencyProofBuilder(old, n);
        foreach (var leaf in leaves.AsSpan(m, n - m))
        {
            builder.Append(leaf);
        }

        return builder.Build();
    }

    [Fact]
    public void Build_EveryPairOfSizesTo64_EqualsTheProofFromAllLeavesAndVerifies()
    {
        var leaves = Leaves(64);
        for (var n = 1; n <= leaves.Length; n++)
        {
            var newRoot = MerkleTree.ComputeRoot(leaves.Take(n).ToArray());
            for (var m = 1; m <= n; m++)
            {
                var proof = Build(leaves, m, n);
                Assert.Equal(MerkleTree.CreateConsistencyProof(leaves.AsSpan(0, n), m), proof);
                MerkleTree.VerifyConsistency(m, n, proof, MerkleTree.ComputeRoot(leaves.Take(m).ToArray()), newRoot);
            }
        }
    }

    [Fact]
    public void Build_LargeTreeFromLateOldSize_VerifiesAgainstBothRoots()
    {
        var leaves = Leaves(5000);
        var proof = Build(leaves, 4093, 5000);
        MerkleTree.VerifyConsistency(4093, 5000, proof, MerkleTree.ComputeRoot(leaves.AsSpan(0, 4093)), MerkleTree.ComputeRoot(leaves));
    }

    [Fact]
    public void Build_LeavesMissing_ThrowsInvalidOperation()
    {
        var old = new MerkleFrontier();
        old.Append(Leaves(3));
        var builder = new ConsistencyProofBuilder(old, 5);
        builder.Append(Leaves(4)[3]);
        Assert.Equal(1, builder.Missing);
        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Fact]
    public void Append_MoreLeavesThanTheNewSize_ThrowsInvalidOperation()
    {
        var old = new MerkleFrontier();
        old.Append(Leaves(3));
        var builder = new ConsistencyProofBuilder(old, 3);
        Assert.Empty(builder.Build());
        Assert.Throws<InvalidOperationException>(() => builder.Append(Leaves(1)[0]));
    }

    [Fact]
    public void Constructor_EmptyOldTreeOrSmallerNewSize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsistencyProofBuilder(new MerkleFrontier(), 4));
        var old = new MerkleFrontier();
        old.Append(Leaves(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsistencyProofBuilder(old, 2));
    }
}
