using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Ledger;
using Btmc.Platform.Keys;

namespace Btmc.Functions.Partners;

/// <summary>
/// One partner allowed to write: its id, the SHA-256 (hex) of its API key or Functions host key (the key itself is not
/// stored), and/or the Entra ID object ids of the principals App Service authentication may sign it in as. Optionally
/// the P-256 public key its capture signatures verify with (<c>signingKey</c>, a JWK) and whether every capture of
/// it must be signed (<c>requireSignature</c>, docs/partners.md "Signed captures").
/// </summary>
public sealed record PartnerKey(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("keySha256")] string? KeySha256,
    [property: JsonPropertyName("principalIds")] IReadOnlyList<string>? PrincipalIds = null,
    [property: JsonPropertyName("signingKey"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EcPublicJwk? SigningKey = null,
    [property: JsonPropertyName("requireSignature"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool RequireSignature = false);

/// <summary>
/// The partner registry: <c>&lt;data&gt;/partners.json</c> (or the file <c>Partners:RegistryFile</c> names),
/// <c>{"partners":[{"id":…,"keySha256":…,"principalIds":[…]}]}</c>. It holds no secret: key hashes and principal ids.
/// On first start it is created with one partner, <c>local</c>, whose newly generated key is written to
/// <c>&lt;data&gt;/keys/partner-local.key</c> (mode 0600). A presented key is hashed and compared in constant time.
/// </summary>
public sealed class PartnerKeys
{
    public const string HeaderName = "X-API-Key";
    public const string DefaultPartner = "local";

    private readonly IReadOnlyList<(string Id, byte[] Hash)> _partners;
    private readonly Dictionary<string, string> _principals;
    private readonly Dictionary<string, (EcPublicJwk? Key, bool Required)> _signing = new(StringComparer.Ordinal);

    private PartnerKeys(IReadOnlyList<PartnerKey> partners, string? createdKeyFile)
    {
        foreach (var partner in partners.Where(p => p.SigningKey is not null || p.RequireSignature))
        {
            // A partner listed twice (a key entry and a principal entry) has one signing policy: any key, any requirement.
            var (key, required) = _signing.GetValueOrDefault(partner.Id);
            _signing[partner.Id] = (key ?? partner.SigningKey, required || partner.RequireSignature);
        }

        _partners = partners.Where(p => p.KeySha256 is not null).Select(p => (p.Id, Convert.FromHexString(p.KeySha256!))).ToList();
        _principals = partners.SelectMany(p => (p.PrincipalIds ?? []).Select(principal => (principal, p.Id)))
            .ToDictionary(x => x.principal, x => x.Id, StringComparer.OrdinalIgnoreCase);
        CreatedKeyFile = createdKeyFile;
    }

    /// <summary>Where the first start wrote the default partner's key, or null when the registry already existed.</summary>
    public string? CreatedKeyFile { get; }

    public int Count => _partners.Select(p => p.Id).Concat(_principals.Values).Distinct(StringComparer.Ordinal).Count();

    public static string RegistryPath(string dataDirectory) => Path.Combine(dataDirectory, "partners.json");

    public static string DefaultKeyPath(string dataDirectory) => Path.Combine(dataDirectory, "keys", $"partner-{DefaultPartner}.key");

    public static PartnerKeys LoadOrCreate(string dataDirectory, string? registryFile = null)
    {
        var registry = registryFile ?? RegistryPath(dataDirectory);
        if (File.Exists(registry))
        {
            var file = JsonSerializer.Deserialize<RegistryFile>(File.ReadAllText(registry))
                ?? throw new InvalidDataException($"{registry} is empty.");
            foreach (var partner in file.Partners)
            {
                var hasKey = partner.KeySha256 is { Length: 64 } hash && hash.All(Uri.IsHexDigit);
                var hasPrincipal = partner.PrincipalIds is { Count: > 0 } ids && ids.All(id => !string.IsNullOrWhiteSpace(id));
                if (string.IsNullOrWhiteSpace(partner.Id) || (partner.KeySha256 is not null && !hasKey) || (!hasKey && !hasPrincipal))
                {
                    throw new InvalidDataException($"{registry}: every partner needs an id and keySha256 (the 64-hex-digit SHA-256 of its API key) and/or principalIds.");
                }

                CheckSigningKey(registry, partner);
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

    /// <summary>
    /// The P-256 public key <paramref name="partnerId"/>'s capture signatures verify with (null when it registered none),
    /// and whether its captures must be signed.
    /// </summary>
    public (EcPublicJwk? Key, bool Required) SigningKeyOf(string partnerId) => _signing.GetValueOrDefault(partnerId);

    private static void CheckSigningKey(string registry, PartnerKey partner)
    {
        if (partner.SigningKey is null)
        {
            if (partner.RequireSignature)
            {
                throw new InvalidDataException($"{registry}: partner '{partner.Id}' requires signatures (requireSignature) but registers no signingKey.");
            }

            return;
        }

        try
        {
            if (partner.SigningKey.Crv != EcPublicJwk.CurveP256)
            {
                throw new ArgumentException($"the curve is {partner.SigningKey.Crv}, not {EcPublicJwk.CurveP256} (signatures are ES256)");
            }

            // Refuses coordinates that are malformed or off the curve now, not at the first signed capture.
            partner.SigningKey.CreateECDsa().Dispose();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{registry}: partner '{partner.Id}' has an invalid signingKey (an EC P-256 public JWK): {ex.Message}", ex);
        }
    }

    /// <summary>The partner an App Service authentication principal (its object id) signs in as, or null.</summary>
    public string? AuthenticatePrincipal(string? principalId) =>
        principalId is not null && _principals.TryGetValue(principalId, out var partner) ? partner : null;

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private sealed record RegistryFile([property: JsonPropertyName("partners")] List<PartnerKey> Partners);

    /// <summary>The header the Functions host reads a host or function key from (or the <c>code</c> query value).</summary>
    public const string FunctionsKeyHeader = "x-functions-key";

    /// <summary>The object id App Service authentication puts on a signed-in request (and strips from any other).</summary>
    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";
}
