using System.Text.Json;

namespace Btmc.Compute.Mining;

/// <summary>
/// One submission on the mining-events stream (the embedded log, or the Event Hubs hub <c>mining-events</c>): the
/// submission as the contributor signed it, and when the backend received it (the time its shares are accounted at).
/// </summary>
public sealed record MiningEvent(long ReceivedAt, ShareSubmission Submission)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="FormatException">Not a mining event.</exception>
    public static MiningEvent FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var evt = JsonSerializer.Deserialize<MiningEvent>(json, Json);
            return evt?.Submission is { Contributor: not null, Jobs: not null, Signature: not null } ? evt : throw new FormatException("A mining event needs a submission.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Not a mining event: {ex.Message}", ex);
        }
    }
}
