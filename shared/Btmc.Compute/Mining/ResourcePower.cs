namespace Btmc.Compute.Mining;

/// <summary>
/// A contributor's resource power in one epoch (docs/compute.md, "Resource power"):
/// <list type="bullet">
/// <item><c>m</c>, effective hash rate: work (accepted shares' 2^bits plus verified job work) over online time, hashes/s;</item>
/// <item><c>t</c>, online time in hours: online buckets × bucket length;</item>
/// <item><c>DPP = m × t</c>, in (hashes/s)·h;</item>
/// <item><c>e = 1 + min(d − 1, 10) / 10</c>, where d is the run of consecutive epochs with work ending at this one (1.0 to 2.0);</item>
/// <item><c>PP = DPP × e</c>.</item>
/// </list>
/// Rewards use the exact integer <see cref="Weight"/> = work × (10 + min(d − 1, 10)), proportional to PP.
/// </summary>
public sealed record ResourcePower(UInt128 Work, int OnlineBuckets, int BucketSeconds, int ConsecutiveEpochs)
{
    public const int MaxPersistenceSteps = 10;

    public double OnlineHours => OnlineBuckets * (double)BucketSeconds / 3600;

    public double HashRate => OnlineBuckets == 0 ? 0 : (double)Work / (OnlineBuckets * (double)BucketSeconds);

    public double Dpp => HashRate * OnlineHours;

    public double Persistence => 1 + (Math.Min(Math.Max(ConsecutiveEpochs, 1) - 1, MaxPersistenceSteps) / 10.0);

    public double Pp => Dpp * Persistence;

    /// <summary>PP in exact integers, for the pro-rata split: work × (10 + min(d − 1, 10)). Zero without online time.</summary>
    public UInt128 Weight => OnlineBuckets == 0 ? UInt128.Zero : Work * (UInt128)(10 + Math.Min(Math.Max(ConsecutiveEpochs, 1) - 1, MaxPersistenceSteps));
}
