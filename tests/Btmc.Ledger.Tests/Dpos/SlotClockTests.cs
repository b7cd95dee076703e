using Btmc.Ledger.Dpos;
using Xunit;

namespace Btmc.Ledger.Tests.Dpos;

public sealed class SlotClockTests
{
    private static readonly SlotClock Clock = new(1_764_000_000_000);

    [Fact]
    public void SlotAt_ThreeSecondSlots_CountsFromGenesis()
    {
        Assert.Equal(0, Clock.SlotAt(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000)));
        Assert.Equal(0, Clock.SlotAt(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_002_999)));
        Assert.Equal(1, Clock.SlotAt(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_003_000)));
        Assert.Equal(-1, Clock.SlotAt(DateTimeOffset.FromUnixTimeMilliseconds(1_763_999_999_999)));
    }

    [Fact]
    public void SlotOf_OnlySlotStarts_NameASlot()
    {
        Assert.Equal(52, Clock.SlotOf(Clock.SlotStart(52)));
        Assert.Null(Clock.SlotOf(Clock.SlotStart(52).AddMilliseconds(1)));
        Assert.Null(Clock.SlotOf(Clock.SlotStart(0).AddMilliseconds(-3000)));
    }

    [Fact]
    public void RoundOf_FiftyOneSlotsPerRound_OfOneHundredFiftyThreeSeconds()
    {
        Assert.Equal(0, Clock.RoundOf(50));
        Assert.Equal(1, Clock.RoundOf(51));
        Assert.Equal(50, Clock.IndexInRound(101));
        Assert.Equal(153_000, Clock.RoundMilliseconds);
        Assert.Equal(Clock.SlotStart(102), Clock.RoundStart(2));
    }

    [Theory]
    [InlineData(10, 51)]
    [InlineData(3000, 0)]
    public void Validated_OutOfRange_Throws(int slotMilliseconds, int slotsPerRound)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlotClock(0, slotMilliseconds, slotsPerRound).Validated());
    }
}
