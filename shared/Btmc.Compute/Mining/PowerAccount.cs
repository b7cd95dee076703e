using System.Collections;

namespace Btmc.Compute.Mining;

/// <summary>
/// One contributor's evidence in one epoch (docs/compute.md, "Resource power"): accepted shares and their work, the
/// online buckets shares and heartbeats marked, and what was rejected.
/// </summary>
public sealed class PowerAccount(int buckets)
{
    public long Accepted { get; set; }

    public long Duplicates { get; set; }

    public long Stale { get; set; }

    public long Invalid { get; set; }

    /// <summary>Work of the accepted shares, in expected hashes (2^bits each).</summary>
    public UInt128 ShareWork { get; set; }

    /// <summary>Buckets with at least one accepted share.</summary>
    public BitArray ShareBuckets { get; init; } = new(buckets);

    /// <summary>Buckets with a heartbeat.</summary>
    public BitArray HeartbeatBuckets { get; init; } = new(buckets);

    /// <summary>
    /// Online buckets: those with an accepted share, and those with a heartbeat that an accepted share at most
    /// <paramref name="bridge"/> buckets before it vouches for (a heartbeat alone proves nothing).
    /// </summary>
    public int OnlineBuckets(int bridge)
    {
        var online = 0;
        var lastShare = int.MinValue / 2;
        for (var i = 0; i < ShareBuckets.Length; i++)
        {
            if (ShareBuckets[i])
            {
                lastShare = i;
                online++;
            }
            else if (HeartbeatBuckets[i] && i - lastShare <= bridge)
            {
                online++;
            }
        }

        return online;
    }

    public static byte[] ToBytes(BitArray bits)
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        bits.CopyTo(bytes, 0);
        return bytes;
    }

    public static BitArray FromBytes(byte[] bytes, int buckets) => new(bytes) { Length = buckets };
}
