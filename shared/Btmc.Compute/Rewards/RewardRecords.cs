using System.Text.Json;
using System.Text.Json.Serialization;

namespace Btmc.Compute.Rewards;

/// <summary>
/// An entry of the compute chain (docs/compute.md, "Rewards"), stored as JSON; its leaf is
/// <c>LedgerEntry(RecordId, SHA-256(stored JSON), Actor)</c>.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(PayoutRecord), "payout")]
[JsonDerivedType(typeof(EpochRecord), "epoch")]
public abstract record RewardRecord
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [JsonIgnore]
    public abstract string RecordId { get; }

    [JsonIgnore]
    public abstract string Actor { get; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="FormatException">Not a reward record.</exception>
    public static RewardRecord FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<RewardRecord>(json, Json) ?? throw new FormatException("The reward record is null.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new FormatException($"Not a reward record: {ex.Message}", ex);
        }
    }
}

/// <summary>One contributor's payout for an epoch, with the evidence it was computed from.</summary>
public sealed record PayoutRecord(
    long Epoch,
    string Contributor,
    string Work,
    string ShareWork,
    string TaskWork,
    int OnlineBuckets,
    int BucketSeconds,
    int ConsecutiveEpochs,
    double HashRate,
    double OnlineHours,
    double Dpp,
    double Persistence,
    double Pp,
    string Weight,
    long Accepted,
    long Duplicates,
    long Stale,
    long Invalid,
    long Payout) : RewardRecord
{
    public override string RecordId => $"compute:payout:{Epoch}:{Contributor}";

    public override string Actor => Contributor;
}

/// <summary>An epoch closed: its window, pool, and the total weight the pool was split by. The last record of the epoch's block.</summary>
public sealed record EpochRecord(long Epoch, DateTimeOffset Start, DateTimeOffset End, long Pool, int Contributors, string TotalWeight, long Paid) : RewardRecord
{
    public override string RecordId => $"compute:epoch:{Epoch}";

    public override string Actor => "compute";
}
