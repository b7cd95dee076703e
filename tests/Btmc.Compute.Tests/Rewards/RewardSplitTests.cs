using Btmc.Compute.Rewards;
using Xunit;

namespace Btmc.Compute.Tests.Rewards;

public sealed class RewardSplitTests
{
    [Fact]
    public void Split_ProRata_SumsToThePoolAndGivesLeftoversToTheLargestRemainders()
    {
        var weights = new Dictionary<string, UInt128> { ["a"] = 1, ["b"] = 1, ["c"] = 1 };

        var payouts = RewardSplit.Split(100, weights);

        // 33 each, one left over; equal remainders: by id.
        Assert.Equal(34, payouts["a"]);
        Assert.Equal(33, payouts["b"]);
        Assert.Equal(33, payouts["c"]);
    }

    [Fact]
    public void Split_UnequalWeights_FollowsThem()
    {
        var payouts = RewardSplit.Split(1_000_000, new Dictionary<string, UInt128> { ["big"] = 3, ["small"] = 1, ["none"] = 0 });

        Assert.Equal(750_000, payouts["big"]);
        Assert.Equal(250_000, payouts["small"]);
        Assert.Equal(0, payouts["none"]);
    }

    [Fact]
    public void Split_HugeWeights_StaysExact()
    {
        var weights = new Dictionary<string, UInt128> { ["x"] = UInt128.MaxValue / 3, ["y"] = UInt128.MaxValue / 3 * 2, ["z"] = 7 };

        var payouts = RewardSplit.Split(999_999_999, weights);

        Assert.Equal(999_999_999, payouts.Values.Sum());
        Assert.Equal(333_333_333, payouts["x"]);
        Assert.Equal(666_666_666, payouts["y"]);
    }

    [Fact]
    public void Split_NoWeight_PaysNothing()
    {
        Assert.All(RewardSplit.Split(500, new Dictionary<string, UInt128> { ["a"] = 0 }).Values, p => Assert.Equal(0, p));
    }
}
