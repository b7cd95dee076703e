using Btmc.Compute.Mining;
using Xunit;

namespace Btmc.Compute.Tests.Mining;

public sealed class PowerTests
{
    [Fact]
    public void OnlineBuckets_HeartbeatsCountOnlyWithinTheBridgeAfterAShare()
    {
        var account = new PowerAccount(30);
        account.ShareBuckets[2] = true;
        foreach (var bucket in new[] { 0, 3, 5, 6, 20 })
        {
            account.HeartbeatBuckets[bucket] = true;
        }

        // Share at 2; heartbeats at 3 and 5 are within 3 buckets of it, 6 is not, 0 and 20 have no share before them.
        Assert.Equal(3, account.OnlineBuckets(bridge: 3));
        Assert.Equal(1, account.OnlineBuckets(bridge: 0));
    }

    [Fact]
    public void ResourcePower_WorkOverOnlineTime_GivesRateHoursDppAndPp()
    {
        // 7.2e9 hashes in 120 one-minute buckets (2 h): m = 1e6 H/s, t = 2 h, DPP = 2e6, day 4 of a run: e = 1.3.
        var power = new ResourcePower(7_200_000_000, 120, 60, 4);

        Assert.Equal(1_000_000, power.HashRate, 6);
        Assert.Equal(2, power.OnlineHours, 9);
        Assert.Equal(2_000_000, power.Dpp, 3);
        Assert.Equal(1.3, power.Persistence, 9);
        Assert.Equal(2_600_000, power.Pp, 3);
        Assert.Equal((UInt128)7_200_000_000 * 13, power.Weight);
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 1.1)]
    [InlineData(11, 2.0)]
    [InlineData(40, 2.0)]
    public void Persistence_GrowsATenthPerConsecutiveEpochUpToTwo(int days, double expected)
    {
        Assert.Equal(expected, new ResourcePower(1, 1, 60, days).Persistence, 9);
    }

    [Fact]
    public void Weight_NoOnlineTime_IsZero()
    {
        Assert.Equal(UInt128.Zero, new ResourcePower(1_000, 0, 60, 3).Weight);
        Assert.Equal(0, new ResourcePower(1_000, 0, 60, 3).HashRate);
    }
}
