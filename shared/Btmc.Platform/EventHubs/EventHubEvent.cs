namespace Btmc.Platform.EventHubs;

/// <summary>
/// One event to publish: a UTF-8 text body (the HTTPS batch format carries bodies as JSON strings), the partition
/// key that keeps related events (one lot's) in order, and optional application properties (the wire's
/// <c>UserProperties</c>).
/// </summary>
public sealed record EventHubEvent(
    ReadOnlyMemory<byte> Body,
    string? PartitionKey = null,
    IReadOnlyDictionary<string, string>? Properties = null);
