using System.Security.Cryptography;
using System.Text;
using Btmc.Epcis.Identifiers;
using Btmc.Ledger;

namespace Btmc.Governance;

/// <summary>
/// What a partner change says a partner is (docs/partners.md, "Registry"): its id, display name, roles, the GS1 company
/// prefixes it owns, those it may commission under on their owners' behalf, the SHA-256 of its API keys (never a key),
/// the Entra ID principals App Service authentication may sign it in as, and its capture signing key.
/// </summary>
public sealed record PartnerSpec(
    string Id,
    string Name,
    PartnerRoles Roles,
    IReadOnlyList<string> Prefixes,
    IReadOnlyList<string> GrantedPrefixes,
    IReadOnlyList<string> ApiKeySha256,
    IReadOnlyList<string> PrincipalIds,
    EcPublicJwk? SigningKey,
    bool RequireSignature)
{
    /// <summary>The payload lines of an add-partner or update-partner action, in their fixed order.</summary>
    internal IEnumerable<(string, string)> Lines() =>
    [
        ("partner", Id),
        ("name", Name),
        ("roles", Caller.Format(Roles)),
        ("prefixes", List(Prefixes)),
        ("granted-prefixes", List(GrantedPrefixes)),
        ("api-keys", List(ApiKeySha256)),
        ("principal-ids", List(PrincipalIds)),
        ("signing-key", SigningKey is null ? None : PayloadFields.FormatKey(SigningKey)),
        ("require-signature", RequireSignature ? "true" : "false"),
    ];

    /// <summary>Written for an empty list or an absent key: a payload line is never empty.</summary>
    internal const string None = "-";

    internal static PartnerSpec Parse(Func<string, string> get)
    {
        var id = PayloadFields.ProducerId(get("partner"), "partner");
        var name = get("name");
        if (name.Length > 200)
        {
            throw Refused.Invalid("name", "A partner's name is at most 200 characters.");
        }

        var roles = PartnerRoles.None;
        foreach (var role in get("roles").Split(','))
        {
            roles |= Caller.ParseRole(role) ?? throw Refused.Invalid("roles", $"Unknown role '{role}'; roles are partner, auditor, operator and financier.");
        }

        var prefixes = ParseList(get("prefixes"), "prefixes", CompanyPrefix.IsValid, "a GS1 company prefix (4 to 12 digits) or *");
        var granted = ParseList(get("granted-prefixes"), "granted-prefixes", CompanyPrefix.IsValid, "a GS1 company prefix (4 to 12 digits) or *");
        var keys = ParseList(get("api-keys"), "api-keys", k => k.Length == 64 && k.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'), "the SHA-256 of an API key in 64 lower-case hex digits");
        var principals = ParseList(get("principal-ids"), "principal-ids", p => p.Length is > 0 and <= 64 && p.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'), "an Entra ID object id");
        var signingKeyLine = get("signing-key");
        EcPublicJwk? signingKey = null;
        if (signingKeyLine != None)
        {
            signingKey = PayloadFields.PublicKey(signingKeyLine, "signing-key");
            if (signingKey.Crv != EcPublicJwk.CurveP256)
            {
                throw Refused.Invalid("signing-key", "A capture signing key is a P-256 key (its signatures are ES256).");
            }

            try
            {
                // Coordinates off the curve are refused now, not at the partner's first signed capture.
                signingKey.CreateECDsa().Dispose();
            }
            catch (ArgumentException ex)
            {
                throw Refused.Invalid("signing-key", $"The signing key is not a valid P-256 public key: {ex.Message}");
            }
        }

        var require = get("require-signature") switch
        {
            "true" => true,
            "false" => false,
            var other => throw Refused.Invalid("require-signature", $"'{other}' is not true or false."),
        };
        if (require && signingKey is null)
        {
            throw Refused.Invalid("require-signature", "A partner that must sign its captures needs a signing key.");
        }

        return new PartnerSpec(id, name, roles, prefixes, granted, keys, principals, signingKey, require);
    }

    private static string List(IReadOnlyList<string> values) => values.Count == 0 ? None : string.Join(',', values);

    private static List<string> ParseList(string line, string field, Func<string, bool> valid, string what)
    {
        if (line == None)
        {
            return [];
        }

        var values = line.Split(',').ToList();
        if (values.FirstOrDefault(v => !valid(v)) is { } bad)
        {
            throw Refused.Invalid(field, $"'{bad}' is not {what}; list several separated by commas, or write {None} for none.");
        }

        if (values.Distinct(StringComparer.Ordinal).Count() != values.Count)
        {
            throw Refused.Invalid(field, $"The {field} list names a value twice.");
        }

        return values;
    }
}

/// <summary>One API key of a partner, by its SHA-256; a replaced key stays valid until <see cref="NotAfter"/>.</summary>
public sealed record PartnerApiKey(string Sha256, DateTimeOffset? NotAfter);

/// <summary>A registered partner as the governance chain holds it now.</summary>
public sealed record Partner(PartnerSpec Spec, IReadOnlyList<PartnerApiKey> ApiKeys, bool Suspended, DateTimeOffset UpdatedAt)
{
    public string Id => Spec.Id;

    /// <summary>Who this partner is when it asks.</summary>
    public Caller AsCaller() => new(Spec.Id, Spec.Roles, Spec.Prefixes, Spec.GrantedPrefixes);
}

/// <summary>
/// The partners a request may authenticate as, from one governance state: built once per applied governance block,
/// never changed, so authentication reads it without locks. Suspended partners and expired keys authenticate nobody.
/// </summary>
public sealed class PartnerDirectory
{
    private readonly (byte[] Hash, Partner Partner, DateTimeOffset? NotAfter)[] _keys;
    private readonly Dictionary<string, Partner> _principals;

    public PartnerDirectory(IReadOnlyDictionary<string, Partner> partners)
    {
        Partners = partners;
        _keys = partners.Values.Where(p => !p.Suspended)
            .SelectMany(p => p.ApiKeys.Select(k => (Convert.FromHexString(k.Sha256), p, k.NotAfter))).ToArray();
        _principals = partners.Values.Where(p => !p.Suspended)
            .SelectMany(p => p.Spec.PrincipalIds.Select(id => (id, p)))
            .ToDictionary(x => x.id, x => x.p, StringComparer.OrdinalIgnoreCase);
    }

    public static PartnerDirectory Empty { get; } = new(new Dictionary<string, Partner>());

    public IReadOnlyDictionary<string, Partner> Partners { get; }

    /// <summary>The active partner whose unexpired API key this is, or null. Every registered key is compared, in
    /// constant time, so the time taken does not depend on which (if any) matched.</summary>
    public Partner? Authenticate(string? presentedKey, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(presentedKey))
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        Partner? match = null;
        foreach (var (expected, partner, notAfter) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected) && (notAfter is null || notAfter > now))
            {
                match ??= partner;
            }
        }

        return match;
    }

    /// <summary>The active partner an App Service authentication principal (its object id) signs in as, or null.</summary>
    public Partner? AuthenticatePrincipal(string? principalId) =>
        principalId is not null && _principals.TryGetValue(principalId, out var partner) ? partner : null;

    /// <summary>The SHA-256 (lower-case hex) of an API key, as the registry records it.</summary>
    public static string HashKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A new API key: 32 random bytes, base64url.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
