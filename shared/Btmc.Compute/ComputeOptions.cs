namespace Btmc.Compute;

/// <summary>Settings of compute sharing (section "Compute" of the configuration; docs/compute.md).</summary>
public sealed class ComputeOptions
{
    /// <summary>Length of a reward epoch (a day in production).</summary>
    public int EpochSeconds { get; set; } = 86_400;

    /// <summary>Online time is counted in buckets of this length (a minute in production).</summary>
    public int BucketSeconds { get; set; } = 60;

    /// <summary>A heartbeat counts a bucket online when an accepted share lies at most this many buckets before it.</summary>
    public int HeartbeatBridgeBuckets { get; set; } = 10;

    /// <summary>A share must have at least this many leading zero bits; it is worth 2^bits hashes.</summary>
    public int ShareDifficultyBits { get; set; } = 24;

    /// <summary>How long a mining job stays valid after it is issued; older shares are stale.</summary>
    public int JobLifetimeSeconds { get; set; } = 600;

    /// <summary>An epoch is closed this long after it ends, once the events received before then are accounted.</summary>
    public int CloseGraceSeconds { get; set; } = 30;

    /// <summary>Tokens paid out per epoch, pro rata to persistent power.</summary>
    public long RewardPool { get; set; } = 1_000_000;

    /// <summary>Partitions of the mining-events stream (one accountant per partition).</summary>
    public int Partitions { get; set; } = 4;

    /// <summary>Share of a job's tasks re-executed by another contributor before anyone is credited (0..1).</summary>
    public double VerifySampleRate { get; set; } = 0.1;

    /// <summary>Work units credited per verified rendered frame (hashing tasks are credited their hash count).</summary>
    public long RenderFrameWork { get; set; } = 1_000_000_000;

    public void Validate()
    {
        Check(EpochSeconds >= 10 && EpochSeconds % BucketSeconds == 0, nameof(EpochSeconds), "at least 10 and a multiple of BucketSeconds");
        Check(BucketSeconds is >= 1 and <= 3600, nameof(BucketSeconds), "between 1 and 3600");
        Check(HeartbeatBridgeBuckets is >= 0 and <= 1000, nameof(HeartbeatBridgeBuckets), "between 0 and 1000");
        Check(ShareDifficultyBits is >= 1 and <= 64, nameof(ShareDifficultyBits), "between 1 and 64");
        Check(JobLifetimeSeconds is >= 1 and <= 86_400, nameof(JobLifetimeSeconds), "between 1 and 86400");
        Check(CloseGraceSeconds is >= 0 and <= 86_400, nameof(CloseGraceSeconds), "between 0 and 86400");
        Check(RewardPool is >= 0 and <= (1L << 53) - 1, nameof(RewardPool), "between 0 and 2^53 - 1");
        Check(Partitions is >= 1 and <= 1024, nameof(Partitions), "between 1 and 1024");
        Check(VerifySampleRate is >= 0 and <= 1, nameof(VerifySampleRate), "between 0 and 1");
        Check(RenderFrameWork >= 1, nameof(RenderFrameWork), "at least 1");
    }

    /// <summary>The epoch that contains <paramref name="time"/>: whole epochs since the Unix epoch.</summary>
    public long EpochOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / EpochSeconds;

    public DateTimeOffset EpochStart(long epoch) => DateTimeOffset.FromUnixTimeSeconds(epoch * EpochSeconds);

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"Compute:{name} must be {rule}.", name);
        }
    }
}
