namespace Btmc.Platform.Tables;

/// <summary>
/// One entity of a table, with Azure Table semantics: a PartitionKey, a RowKey, an opaque ETag that changes on
/// every write, and typed properties. Property values are one of: <see cref="string"/>, <see cref="int"/>,
/// <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, <see cref="DateTimeOffset"/>, <see cref="Guid"/>,
/// <see cref="byte"/>[] — the EDM types Table storage keeps.
/// </summary>
public sealed record TableEntity(string PartitionKey, string RowKey, IReadOnlyDictionary<string, object> Properties)
{
    /// <summary>The entity's ETag as last read or written; null on an entity that was never stored.</summary>
    public string? ETag { get; init; }

    /// <summary>The service-assigned time of the last write; null on an entity that was never stored.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    public string GetString(string name) => (string)Properties[name];

    public long GetInt64(string name) => Properties[name] switch
    {
        long l => l,
        int i => i,
        var other => throw new InvalidCastException($"Property '{name}' is {other.GetType().Name}, not Int64."),
    };

    public byte[] GetBinary(string name) => (byte[])Properties[name];
}
