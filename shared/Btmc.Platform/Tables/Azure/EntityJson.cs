using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// Entities as Table storage's JSON (OData v3, minimal metadata). Types JSON does not carry get a sibling
/// <c>"Name@odata.type"</c>: Edm.Int64 (value as a string), Edm.Double (always, so 2.0 does not come back as an
/// Int32; NaN and infinities as strings), Edm.DateTime (ISO 8601 UTC, 7 fraction digits), Edm.Guid, Edm.Binary
/// (base64). Strings, booleans and Int32 go bare.
/// </summary>
internal static class EntityJson
{
    private const string TypeSuffix = "@odata.type";

    /// <summary>
    /// Escapes only what JSON requires: the body goes to the service, not into HTML, and non-ASCII text escaped as
    /// \uXXXX would take up to 6 bytes a char against the service's body limits.
    /// </summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The body of an insert, update, merge or upsert: keys and custom properties.</summary>
    public static byte[] Serialize(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("PartitionKey", entity.PartitionKey);
            w.WriteString("RowKey", entity.RowKey);
            foreach (var (name, value) in entity.Properties)
            {
                WriteProperty(w, name, value);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads an entity of a response. The ETag is <c>odata.etag</c>, else <paramref name="etagHeader"/>; the
    /// Timestamp is the service's. Nulls (a selected property the entity lacks) are left out.
    /// </summary>
    public static TableEntity Deserialize(JsonElement json, string? etagHeader)
    {
        string? pk = null, rk = null, etag = etagHeader;
        DateTimeOffset? timestamp = null;
        var properties = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var member in json.EnumerateObject())
        {
            var name = member.Name;
            switch (name)
            {
                case "PartitionKey":
                    pk = member.Value.GetString();
                    continue;
                case "RowKey":
                    rk = member.Value.GetString();
                    continue;
                case "Timestamp":
                    timestamp = ParseDateTime(member.Value.GetString());
                    continue;
                case "odata.etag":
                    etag = member.Value.GetString();
                    continue;
            }

            if (name.Contains('@', StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal)
                || member.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var type = json.TryGetProperty(name + TypeSuffix, out var annotation) ? annotation.GetString() : null;
            properties[name] = ReadValue(name, member.Value, type);
        }

        if (pk is null || rk is null)
        {
            throw new TableStoreException(502, "InvalidResponse", "The service returned an entity without PartitionKey or RowKey.");
        }

        return new TableEntity(pk, rk, properties) { ETag = etag, Timestamp = timestamp };
    }

    private static void WriteProperty(Utf8JsonWriter w, string name, object value)
    {
        switch (value)
        {
            case string s:
                w.WriteString(name, s);
                break;
            case bool b:
                w.WriteBoolean(name, b);
                break;
            case int i:
                w.WriteNumber(name, i);
                break;
            case long l:
                w.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                w.WriteString(name + TypeSuffix, "Edm.Int64");
                break;
            case double d:
                if (double.IsNaN(d))
                {
                    w.WriteString(name, "NaN");
                }
                else if (double.IsPositiveInfinity(d))
                {
                    w.WriteString(name, "Infinity");
                }
                else if (double.IsNegativeInfinity(d))
                {
                    w.WriteString(name, "-Infinity");
                }
                else
                {
                    w.WriteNumber(name, d);
                }

                w.WriteString(name + TypeSuffix, "Edm.Double");
                break;
            case DateTimeOffset t:
                w.WriteString(name, FormatDateTime(t));
                w.WriteString(name + TypeSuffix, "Edm.DateTime");
                break;
            case Guid g:
                w.WriteString(name, g.ToString("D"));
                w.WriteString(name + TypeSuffix, "Edm.Guid");
                break;
            case byte[] bytes:
                w.WriteBase64String(name, bytes);
                w.WriteString(name + TypeSuffix, "Edm.Binary");
                break;
            default:
                throw new TableStoreException(400, "InvalidInput", $"The property '{name}' has the unsupported type {value.GetType().Name}.");
        }
    }

    private static object ReadValue(string name, JsonElement value, string? type)
    {
        try
        {
            switch (type)
            {
                case "Edm.Int64":
                    return value.ValueKind == JsonValueKind.String
                        ? long.Parse(value.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
                        : value.GetInt64();
                case "Edm.Int32":
                    return value.GetInt32();
                case "Edm.Double":
                    return value.ValueKind == JsonValueKind.String ? ParseDoubleString(value.GetString()!) : value.GetDouble();
                case "Edm.DateTime":
                    return ParseDateTime(value.GetString());
                case "Edm.Guid":
                    return Guid.Parse(value.GetString()!, CultureInfo.InvariantCulture);
                case "Edm.Binary":
                    return value.GetBytesFromBase64();
                case "Edm.Boolean":
                    return value.GetBoolean();
                case "Edm.String":
                    return value.GetString()!;
                case null:
                    break;
                default:
                    throw new FormatException($"unknown type {type}");
            }

            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number when value.TryGetInt32(out var i) => i,
                JsonValueKind.Number => value.GetDouble(),
                _ => throw new FormatException($"unexpected JSON {value.ValueKind}"),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new TableStoreException(502, "InvalidResponse", $"The service returned the property '{name}' in an unreadable form ({e.Message}).");
        }
    }

    internal static string FormatDateTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseDateTime(string? text) =>
        DateTimeOffset.Parse(text ?? throw new FormatException("null date"), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static double ParseDoubleString(string text) => text switch
    {
        "NaN" => double.NaN,
        "Infinity" or "INF" => double.PositiveInfinity,
        "-Infinity" or "-INF" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
