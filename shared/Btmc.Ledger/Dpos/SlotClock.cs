namespace Btmc.Ledger.Dpos;

/// <summary>
/// Block slots and rounds (docs/dpos.md, "Slots and rounds"). Slot <c>s</c> begins at
/// <c>genesis + s × SlotMilliseconds</c>; round <c>r</c> holds slots <c>r × SlotsPerRound .. (r + 1) × SlotsPerRound − 1</c>.
/// A block's slot time is the start of its slot, so a header names its slot exactly.
/// </summary>
/// <param name="GenesisUnixMilliseconds">The start of slot 0, Unix milliseconds.</param>
/// <param name="SlotMilliseconds">The length of one slot (3000 in production).</param>
/// <param name="SlotsPerRound">Slots per round (51 in production).</param>
public sealed record SlotClock(long GenesisUnixMilliseconds, int SlotMilliseconds = SlotClock.DefaultSlotMilliseconds, int SlotsPerRound = SlotClock.DefaultSlotsPerRound)
{
    /// <summary>One block slot every 3 s.</summary>
    public const int DefaultSlotMilliseconds = 3000;

    /// <summary>51 producer slots per round.</summary>
    public const int DefaultSlotsPerRound = 51;

    /// <summary>The shortest slot allowed (tests and development ledgers use short slots; production uses 3 s).</summary>
    public const int MinSlotMilliseconds = 50;

    /// <summary>Validates the values; throws <see cref="ArgumentException"/> naming the one that is wrong.</summary>
    public SlotClock Validated()
    {
        if (SlotMilliseconds is < MinSlotMilliseconds or > 3_600_000)
        {
            throw new ArgumentOutOfRangeException(nameof(SlotMilliseconds), SlotMilliseconds, $"A slot is {MinSlotMilliseconds} ms to 1 hour long.");
        }

        if (SlotsPerRound is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(SlotsPerRound), SlotsPerRound, "A round has 1 to 1000 slots.");
        }

        if (GenesisUnixMilliseconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(GenesisUnixMilliseconds), GenesisUnixMilliseconds, "Genesis is after 1970.");
        }

        return this;
    }

    /// <summary>The length of a round in milliseconds.</summary>
    public long RoundMilliseconds => (long)SlotMilliseconds * SlotsPerRound;

    /// <summary>The slot that contains <paramref name="time"/>; -1 before genesis.</summary>
    public long SlotAt(DateTimeOffset time)
    {
        var since = time.ToUnixTimeMilliseconds() - GenesisUnixMilliseconds;
        return since < 0 ? -1 : since / SlotMilliseconds;
    }

    /// <summary>The slot a block's slot time names, or null when the time is not the start of a slot at or after genesis.</summary>
    public long? SlotOf(DateTimeOffset slotTime)
    {
        var since = slotTime.ToUnixTimeMilliseconds() - GenesisUnixMilliseconds;
        return since >= 0 && since % SlotMilliseconds == 0 ? since / SlotMilliseconds : null;
    }

    /// <summary>The start of slot <paramref name="slot"/>.</summary>
    public DateTimeOffset SlotStart(long slot) =>
        DateTimeOffset.FromUnixTimeMilliseconds(GenesisUnixMilliseconds + (slot * SlotMilliseconds));

    /// <summary>The round slot <paramref name="slot"/> belongs to.</summary>
    public long RoundOf(long slot) => slot / SlotsPerRound;

    /// <summary>The position of slot <paramref name="slot"/> in its round (0 .. SlotsPerRound − 1).</summary>
    public int IndexInRound(long slot) => (int)(slot % SlotsPerRound);

    /// <summary>The start of round <paramref name="round"/>.</summary>
    public DateTimeOffset RoundStart(long round) => SlotStart(round * SlotsPerRound);
}
