using Btmc.Supply.Subscriptions;
using Xunit;

namespace Btmc.Supply.Tests.Subscriptions;

public sealed class QueryScheduleTests
{
    private static QuerySchedule Parse(params (string Name, string Value)[] fields) => QuerySchedule.Parse(fields.ToDictionary(f => f.Name, f => f.Value));

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Next_DailyAtOneOhFive_IsTheNextOneOhFiveZeroSeconds()
    {
        // The REST binding's example: {"hour": "1", "minute": "5"}; second omitted matches every second of that minute.
        var schedule = Parse(("second", "0"), ("minute", "5"), ("hour", "1"));

        Assert.Equal(At("2026-12-08T01:05:00Z"), schedule.Next(At("2026-12-07T23:00:00Z")));
        Assert.Equal(At("2026-12-09T01:05:00Z"), schedule.Next(At("2026-12-08T01:05:00Z")));
        Assert.Equal(At("2026-12-09T01:05:00Z"), schedule.Next(At("2026-12-08T01:05:00.5Z")));
    }

    [Fact]
    public void Next_HourOnly_RunsEverySecondOfThatHour()
    {
        // The standard's warning: omitting finer fields than those given means "every second" within them.
        var schedule = Parse(("hour", "2"));

        Assert.Equal(At("2026-12-08T02:00:00Z"), schedule.Next(At("2026-12-08T01:59:59Z")));
        Assert.Equal(At("2026-12-08T02:00:01Z"), schedule.Next(At("2026-12-08T02:00:00Z")));
        Assert.Equal(At("2026-12-09T02:00:00Z"), schedule.Next(At("2026-12-08T02:59:59Z")));
    }

    [Fact]
    public void Next_WeekdaysTopOfTheHour_SkipsTheWeekend()
    {
        var schedule = Parse(("second", "0"), ("minute", "0"), ("dayOfWeek", "[1-5]"));

        // 2026-12-11 is a Friday; the next weekday hour after Friday 23:00 is Monday 00:00.
        Assert.Equal(At("2026-12-14T00:00:00Z"), schedule.Next(At("2026-12-11T23:00:00Z")));
        Assert.True(schedule.Matches(At("2026-12-14T05:00:00Z")));
        Assert.False(schedule.Matches(At("2026-12-13T05:00:00Z")));
    }

    [Fact]
    public void Next_ListsAndRanges_MatchAnyElement()
    {
        var schedule = Parse(("second", "0,30"), ("minute", "[10-12],40"));

        Assert.Equal(At("2026-12-08T00:10:00Z"), schedule.Next(At("2026-12-08T00:00:00Z")));
        Assert.Equal(At("2026-12-08T00:10:30Z"), schedule.Next(At("2026-12-08T00:10:00Z")));
        Assert.Equal(At("2026-12-08T00:40:00Z"), schedule.Next(At("2026-12-08T00:12:30Z")));
    }

    [Fact]
    public void Next_LeapDay_FoundYearsAhead()
    {
        var schedule = Parse(("second", "0"), ("minute", "0"), ("hour", "0"), ("dayOfMonth", "29"), ("month", "2"));

        Assert.Equal(At("2028-02-29T00:00:00Z"), schedule.Next(At("2026-12-08T00:00:00Z")));
    }

    [Theory]
    [InlineData("minute", "60", "schedule/minute")]
    [InlineData("hour", "24", "schedule/hour")]
    [InlineData("dayOfMonth", "0", "schedule/dayOfMonth")]
    [InlineData("dayOfWeek", "8", "schedule/dayOfWeek")]
    [InlineData("month", "[3-1]", "schedule/month")]
    [InlineData("second", "*/5", "schedule/second")]
    [InlineData("second", "1,,2", "schedule/second")]
    [InlineData("second", "", "schedule/second")]
    [InlineData("second", "[1-]", "schedule/second")]
    [InlineData("second", "-1", "schedule/second")]
    [InlineData("weekday", "1", "schedule/weekday")]
    public void Parse_OffTheGrammarOrOutOfRange_SubscriptionControlsExceptionNamingTheField(string name, string value, string field)
    {
        var ex = Assert.Throws<SubscriptionControlsException>(() => Parse((name, value)));

        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void Parse_NoDateMatches_SubscriptionControlsException()
    {
        var ex = Assert.Throws<SubscriptionControlsException>(() => Parse(("dayOfMonth", "31"), ("month", "[4-4],6,9,11")));

        Assert.Equal("schedule", ex.Field);
    }
}
