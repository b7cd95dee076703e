namespace Btmc.Supply;

/// <summary>Settings of capture and sealing (section "Supply" of the configuration).</summary>
public sealed class SupplyOptions
{
    /// <summary>Partitions of the supply-events stream; each partition is sealed into its own chain.</summary>
    public int Partitions { get; set; } = 4;

    /// <summary>
    /// The most events one block holds (M): each chain seals at most one block per slot (docs/dpos.md), so a chain
    /// seals up to M events every 3 s. On Table storage keep M ≤ <see cref="TableStorageMaxBlockEvents"/>: a block's
    /// entries share one partition (docs/storage-layout.md).
    /// </summary>
    public int SealMaxEvents { get; set; } = 10_000;

    /// <summary>The largest block whose entries partition stays within Table storage's 2,000 entities/s target (the
    /// default of <see cref="SealMaxEvents"/> on Table storage).</summary>
    public const int TableStorageMaxBlockEvents = 2000;

    /// <summary>The default of <see cref="Partitions"/> on Table storage: 16 chains of 2,000-event blocks seal 10,667
    /// events/s (docs/storage-layout.md, "Arithmetic").</summary>
    public const int TableStoragePartitions = 16;

    /// <summary>The embedded log's sealer gathers a batch until M events are waiting or the oldest has waited this long
    /// (N), then seals it in its chain's next slot.</summary>
    public int SealMaxDelayMilliseconds { get; set; } = 200;

    /// <summary>Largest number of events one capture may carry (answered with 413 beyond).</summary>
    public int MaxEventsPerCapture { get; set; } = 10_000;

    /// <summary>Largest capture body in bytes (answered with 413 beyond).</summary>
    public int MaxCaptureBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest single event in bytes: one event is one table entity property (64 KiB binary in Table storage).</summary>
    public int MaxEventBytes { get; set; } = 60 * 1024;

    /// <summary>
    /// Largest sealing backlog: a capture that would take the number of accepted-but-unsealed events past this is
    /// answered 503 with Retry-After, so a load beyond the sealing rate slows producers instead of growing memory.
    /// </summary>
    public int MaxPendingEvents { get; set; } = 200_000;

    /// <summary>Chain ids are this prefix, a dash and the partition number.</summary>
    public string ChainPrefix { get; set; } = "supply";

    public string ChainId(int partition) => $"{ChainPrefix}-{partition}";

    /// <summary>Put before every table name (letters and digits), so several ledgers can share one storage account.</summary>
    public string TablePrefix { get; set; } = string.Empty;

    public void Validate()
    {
        Check(Partitions is >= 1 and <= 1024, nameof(Partitions), "between 1 and 1024");
        Check(SealMaxEvents is >= 1 and <= 100_000, nameof(SealMaxEvents), "between 1 and 100000");
        Check(SealMaxDelayMilliseconds is >= 0 and <= 60_000, nameof(SealMaxDelayMilliseconds), "between 0 and 60000");
        Check(MaxEventsPerCapture >= 1, nameof(MaxEventsPerCapture), "at least 1");
        Check(MaxCaptureBytes >= 1024, nameof(MaxCaptureBytes), "at least 1024");
        Check(MaxEventBytes is >= 1024 and <= 64 * 1024, nameof(MaxEventBytes), "between 1024 and 65536");
        Check(MaxPendingEvents >= 1, nameof(MaxPendingEvents), "at least 1");
        Check(!string.IsNullOrWhiteSpace(ChainPrefix) && ChainPrefix.Length <= 64, nameof(ChainPrefix), "1 to 64 characters");
        Check(TablePrefix.Length <= 40 && TablePrefix.All(char.IsAsciiLetterOrDigit) && (TablePrefix.Length == 0 || char.IsAsciiLetter(TablePrefix[0])),
            nameof(TablePrefix), "empty, or up to 40 ASCII letters and digits starting with a letter");
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"Supply:{name} must be {rule}.", name);
        }
    }
}
