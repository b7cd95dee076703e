using System.Globalization;

namespace Btmc.Supply.Subscriptions;

/// <summary>
/// A scheduled subscription's <c>schedule</c> (EPCIS 2.0 REST binding, <c>QueryScheduleSubscription</c>; the grammar
/// and rule of the EPCIS standard's QuerySchedule): each field is a comma-separated list of numbers and ranges
/// <c>[low-high]</c>; the query runs at every second whose UTC second, minute, hour, day of month, month and day of week
/// (1 Monday to 7 Sunday) match every field given. An omitted field matches any value, so <c>{"hour": "2"}</c> runs once
/// a second from 2:00:00 to 2:59:59, as the standard's own example warns. Times are UTC (the standard lets the service
/// choose the time zone).
/// </summary>
public sealed record QuerySchedule
{
    /// <summary>The schedule's fields as given (name → text), for display and storage.</summary>
    public required IReadOnlyDictionary<string, string> Fields { get; init; }

    private bool[] Seconds { get; init; } = [];
    private bool[] Minutes { get; init; } = [];
    private bool[] Hours { get; init; } = [];
    private bool[] DaysOfMonth { get; init; } = [];
    private bool[] Months { get; init; } = [];
    private bool[] DaysOfWeek { get; init; } = [];

    /// <summary>The fields in the standard's order, with their legal ranges.</summary>
    public static readonly IReadOnlyList<(string Name, int Low, int High)> Ranges =
    [
        ("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("dayOfMonth", 1, 31), ("month", 1, 12), ("dayOfWeek", 1, 7),
    ];

    /// <summary>
    /// Reads a schedule. Every problem is a SubscriptionControlsException naming the field (<c>schedule/minute</c>): an
    /// unknown field, text off the grammar, a number out of the field's range, a range whose low end is above its high
    /// end, or a schedule no date matches (day 30 of February).
    /// </summary>
    public static QuerySchedule Parse(IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var name in fields.Keys)
        {
            if (!Ranges.Any(r => r.Name == name))
            {
                throw new SubscriptionControlsException("schedule/" + name, $"'{name}' is not a schedule field; the fields are {string.Join(", ", Ranges.Select(r => r.Name))}.");
            }
        }

        bool[] Field(int index)
        {
            var (name, low, high) = Ranges[index];
            var set = new bool[high + 1];
            if (!fields.TryGetValue(name, out var text))
            {
                Array.Fill(set, true, low, high - low + 1);
                return set;
            }

            foreach (var element in text.Split(','))
            {
                var (from, to) = element.StartsWith('[') && element.EndsWith(']') && element.IndexOf('-', StringComparison.Ordinal) is var dash and > 1
                    ? (Number(element[1..dash]), Number(element[(dash + 1)..^1]))
                    : (Number(element), Number(element));
                if (from is not { } a || to is not { } b)
                {
                    throw new SubscriptionControlsException("schedule/" + name,
                        $"'{text}' is not a schedule field value: numbers and ranges [low-high], separated by commas (e.g. \"0,30\" or \"[1-5]\").");
                }

                if (a < low || b > high)
                {
                    throw new SubscriptionControlsException("schedule/" + name, $"{name} values run from {low} to {high}; '{element}' is outside.");
                }

                if (a > b)
                {
                    throw new SubscriptionControlsException("schedule/" + name, $"The range '{element}' starts above its end.");
                }

                Array.Fill(set, true, a, b - a + 1);
            }

            return set;
        }

        var schedule = new QuerySchedule
        {
            Fields = new SortedDictionary<string, string>(fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal), StringComparer.Ordinal),
            Seconds = Field(0),
            Minutes = Field(1),
            Hours = Field(2),
            DaysOfMonth = Field(3),
            Months = Field(4),
            DaysOfWeek = Field(5),
        };

        // A 28-year span holds every combination of leap year, month, day of month and day of week.
        if (schedule.NextDay(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), 366 * 28) is null)
        {
            throw new SubscriptionControlsException("schedule", "No date matches this schedule's dayOfMonth, month and dayOfWeek together.");
        }

        return schedule;

        static int? Number(string text) =>
            text.Length is > 0 and <= 2 && text.All(char.IsAsciiDigit) ? int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>True when the second of <paramref name="time"/> (UTC) matches every field.</summary>
    public bool Matches(DateTimeOffset time)
    {
        var t = time.UtcDateTime;
        return DayMatches(t) && Hours[t.Hour] && Minutes[t.Minute] && Seconds[t.Second];
    }

    /// <summary>The first whole second after <paramref name="after"/> that matches (the next query time).</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        var start = after.UtcDateTime;
        start = new DateTime(start.Ticks - (start.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc).AddSeconds(1);
        var day = start.Date;
        for (var days = 0; days < 366 * 28; days++, day = day.AddDays(1))
        {
            if (!DayMatches(day))
            {
                continue;
            }

            for (var hour = day == start.Date ? start.Hour : 0; hour < 24; hour++)
            {
                if (!Hours[hour])
                {
                    continue;
                }

                var sameHour = day == start.Date && hour == start.Hour;
                for (var minute = sameHour ? start.Minute : 0; minute < 60; minute++)
                {
                    if (!Minutes[minute])
                    {
                        continue;
                    }

                    for (var second = sameHour && minute == start.Minute ? start.Second : 0; second < 60; second++)
                    {
                        if (Seconds[second])
                        {
                            return new DateTimeOffset(day.AddHours(hour).AddMinutes(minute).AddSeconds(second), TimeSpan.Zero);
                        }
                    }
                }
            }
        }

        throw new InvalidOperationException("A parsed schedule always has a next query time.");
    }

    private DateTime? NextDay(DateTime from, int days)
    {
        for (var d = 0; d < days; d++, from = from.AddDays(1))
        {
            if (DayMatches(from))
            {
                return from;
            }
        }

        return null;
    }

    private bool DayMatches(DateTime t) =>
        Months[t.Month] && DaysOfMonth[t.Day] && DaysOfWeek[t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek];
}

/// <summary>The standard's SubscriptionControlsException: the subscription's controls (schedule, stream, dest, times) are
/// invalid; <see cref="Field"/> names the member.</summary>
public sealed class SubscriptionControlsException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
