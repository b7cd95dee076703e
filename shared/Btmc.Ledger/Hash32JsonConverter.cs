using System.Text.Json;
using System.Text.Json.Serialization;

namespace Btmc.Ledger;

/// <summary>Writes a <see cref="Hash32"/> as a JSON string of standard base64 (44 characters) and reads it back strictly.</summary>
internal sealed class Hash32JsonConverter : JsonConverter<Hash32>
{
    public override Hash32 Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A hash must be a base64 string.");
        }

        return Hash32.TryFromBase64(reader.GetString(), out var hash)
            ? hash
            : throw new JsonException("A hash must be base64 of exactly 32 bytes.");
    }

    public override void Write(Utf8JsonWriter writer, Hash32 value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteBase64StringValue(value.AsSpan());
    }
}
