using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// Key Vault's JSON bodies (keys.json of the REST specification): the key bundle of Get Key and Create Key, the
/// Create Key parameters, and Sign and Verify. Byte fields are base64url without padding.
/// </summary>
internal static class KeyVaultJson
{
    /// <summary>
    /// A key bundle: <c>{"key":{"kid","kty","key_ops","crv","x","y"},"attributes":{"enabled","nbf","exp","created",
    /// "updated","recoveryLevel","recoverableDays","exportable"},"tags":{..},"managed":..}</c>.
    /// </summary>
    public static KeyVaultKey ReadKeyBundle(JsonElement root)
    {
        var key = root.GetProperty("key");
        var kid = RequiredString(key, "kid");
        var identifier = new KeyVaultKeyIdentifier(new Uri(kid, UriKind.Absolute));
        var jwk = new JsonWebKey(
            kid,
            new KeyType(RequiredString(key, "kty")),
            OptionalString(key, "crv") is { } crv ? new KeyCurveName(crv) : (KeyCurveName?)null,
            OptionalBytes(key, "x"),
            OptionalBytes(key, "y"),
            key.TryGetProperty("key_ops", out var ops) && ops.ValueKind == JsonValueKind.Array
                ? [.. ops.EnumerateArray().Select(op => new KeyOperation(op.GetString() ?? ""))]
                : []);

        var attributes = root.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        var properties = new KeyProperties(
            OptionalBool(attributes, "enabled"),
            OptionalTime(attributes, "nbf"),
            OptionalTime(attributes, "exp"),
            OptionalTime(attributes, "created"),
            OptionalTime(attributes, "updated"),
            OptionalString(attributes, "recoveryLevel"),
            attributes.ValueKind == JsonValueKind.Object && attributes.TryGetProperty("recoverableDays", out var days)
                && days.ValueKind == JsonValueKind.Number ? days.GetInt32() : null,
            OptionalBool(attributes, "exportable"),
            OptionalBool(root, "managed") ?? false,
            root.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object
                ? tags.EnumerateObject().ToDictionary(tag => tag.Name, tag => tag.Value.GetString() ?? "", StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal));

        return new KeyVaultKey(identifier.SourceId, identifier.Name, identifier.Version, jwk, properties);
    }

    /// <summary>Create Key parameters: <c>{"kty","crv","key_ops":[..],"attributes":{"enabled","nbf","exp"},"tags":{..}}</c>.</summary>
    public static byte[] WriteCreateEcKey(CreateEcKeyOptions options, KeyCurveName curve) => Write(writer =>
    {
        writer.WriteString("kty"u8, (options.HardwareProtected ? KeyType.EcHsm : KeyType.Ec).Value);
        writer.WriteString("crv"u8, curve.Value);
        writer.WriteStartArray("key_ops"u8);
        foreach (var operation in options.KeyOperations)
        {
            writer.WriteStringValue(operation.Value);
        }

        writer.WriteEndArray();
        if (options.Enabled is not null || options.NotBefore is not null || options.ExpiresOn is not null)
        {
            writer.WriteStartObject("attributes"u8);
            if (options.Enabled is { } enabled)
            {
                writer.WriteBoolean("enabled"u8, enabled);
            }

            if (options.NotBefore is { } notBefore)
            {
                writer.WriteNumber("nbf"u8, notBefore.ToUnixTimeSeconds());
            }

            if (options.ExpiresOn is { } expiresOn)
            {
                writer.WriteNumber("exp"u8, expiresOn.ToUnixTimeSeconds());
            }

            writer.WriteEndObject();
        }

        if (options.Tags.Count > 0)
        {
            writer.WriteStartObject("tags"u8);
            foreach (var (name, value) in options.Tags)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }
    });

    /// <summary>Sign parameters: <c>{"alg":"ES256","value":"&lt;base64url digest&gt;"}</c>.</summary>
    public static byte[] WriteSign(string algorithm, byte[] digest) => Write(writer =>
    {
        writer.WriteString("alg"u8, algorithm);
        writer.WriteString("value"u8, Base64Url.EncodeToString(digest));
    });

    /// <summary>Verify parameters: <c>{"alg","digest","value"}</c>, the signature in <c>value</c>.</summary>
    public static byte[] WriteVerify(string algorithm, byte[] digest, byte[] signature) => Write(writer =>
    {
        writer.WriteString("alg"u8, algorithm);
        writer.WriteString("digest"u8, Base64Url.EncodeToString(digest));
        writer.WriteString("value"u8, Base64Url.EncodeToString(signature));
    });

    /// <summary>The result of a key operation: <c>{"kid":"..","value":"&lt;base64url&gt;"}</c>.</summary>
    public static (string KeyId, byte[] Value) ReadKeyOperationResult(JsonElement root) =>
        (RequiredString(root, "kid"), OptionalBytes(root, "value") ?? throw new KeyNotFoundException("The result has no 'value'."));

    /// <summary>The result of Verify: <c>{"value":true|false}</c>.</summary>
    public static bool ReadVerifyResult(JsonElement root) => root.GetProperty("value").GetBoolean();

    private static byte[] Write(Action<Utf8JsonWriter> writeMembers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeMembers(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string RequiredString(JsonElement element, string name) =>
        OptionalString(element, name) is { Length: > 0 } value ? value : throw new KeyNotFoundException($"The body has no '{name}'.");

    private static string? OptionalString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static bool? OptionalBool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    private static DateTimeOffset? OptionalTime(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeSeconds(value.GetInt64())
            : null;

    private static byte[]? OptionalBytes(JsonElement element, string name) =>
        OptionalString(element, name) is { } text ? Base64Url.DecodeFromChars(text) : null;
}
