using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Platform.Keys;

namespace Btmc.Functions.Partners;

/// <summary>One partner allowed to write: its id and the SHA-256 (hex) of its API key. The key itself is not stored.</summary>
public sealed record PartnerKey([property: JsonPropertyName("id")] string Id, [property: JsonPropertyName("keySha256")] string KeySha256);

/// <summary>
/// The embedded default's partner registry: <c>&lt;data&gt;/partners.json</c>, <c>{"partners":[{"id":…,"keySha256":…}]}</c>.
/// On first start it is created with one partner, <c>local</c>, whose newly generated key is written to
/// <c>&lt;data&gt;/keys/partner-local.key</c> (mode 0600). A presented key is hashed and compared in constant time.
/// </summary>
public sealed class PartnerKeys
{
    public const string HeaderName = "X-API-Key";
    public const string DefaultPartner = "local";

    private readonly IReadOnlyList<(string Id, byte[] Hash)> _partners;

    private PartnerKeys(IReadOnlyList<PartnerKey> partners, string? createdKeyFile)
    {
        _partners = partners.Select(p => (p.Id, Convert.FromHexString(p.KeySha256))).ToList();
        CreatedKeyFile = createdKeyFile;
    }

    /// <summary>Where the first start wrote the default partner's key, or null when the registry already existed.</summary>
    public string? CreatedKeyFile { get; }

    public int Count => _partners.Count;

    public static string RegistryPath(string dataDirectory) => Path.Combine(dataDirectory, "partners.json");

    public static string DefaultKeyPath(string dataDirectory) => Path.Combine(dataDirectory, "keys", $"partner-{DefaultPartner}.key");

    public static PartnerKeys LoadOrCreate(string dataDirectory)
    {
        var registry = RegistryPath(dataDirectory);
        if (File.Exists(registry))
        {
            var file = JsonSerializer.Deserialize<RegistryFile>(File.ReadAllText(registry))
                ?? throw new InvalidDataException($"{registry} is empty.");
            foreach (var partner in file.Partners)
            {
                if (string.IsNullOrWhiteSpace(partner.Id) || partner.KeySha256 is not { Length: 64 } || !partner.KeySha256.All(Uri.IsHexDigit))
                {
                    throw new InvalidDataException($"{registry}: every partner needs an id and keySha256, the 64-hex-digit SHA-256 of its API key.");
                }
            }

            return new PartnerKeys(file.Partners, null);
        }

        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var keyFile = DefaultKeyPath(dataDirectory);
        OwnerOnlyFile.Write(keyFile, key);
        var partners = new List<PartnerKey> { new(DefaultPartner, Hash(key)) };
        OwnerOnlyFile.Write(registry, JsonSerializer.Serialize(new RegistryFile(partners), new JsonSerializerOptions { WriteIndented = true }));
        return new PartnerKeys(partners, keyFile);
    }

    /// <summary>The partner whose key this is, or null.</summary>
    public string? Authenticate(string? presentedKey)
    {
        if (string.IsNullOrEmpty(presentedKey))
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        string? match = null;
        foreach (var (id, expected) in _partners)
        {
            // Every entry is compared, so the time taken does not depend on which (if any) matched.
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                match ??= id;
            }
        }

        return match;
    }

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private sealed record RegistryFile([property: JsonPropertyName("partners")] List<PartnerKey> Partners);
}
