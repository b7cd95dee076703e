using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Epcis.Identifiers;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Platform.Keys;

namespace Btmc.Functions.Partners;

/// <summary>What the first start registered: the key files it wrote, or the file it imported (all null on later starts).</summary>
public sealed record PartnerSetupResult(PartnerRegistry Registry, string? OperatorKeyFile, string? LocalKeyFile, string? ImportedFrom);

/// <summary>
/// The partner registry's first partners (docs/partners.md, "First start"). When the governance chain has no partner:
/// an existing registry file (<c>&lt;data&gt;/partners.json</c>, or the one <c>Partners:RegistryFile</c> names) that
/// names partners is imported once (an empty one waits); otherwise, on a ledger without a committee (the embedded
/// default), partner <c>local</c>, which owns every prefix, is created with its key in
/// <c>&lt;data&gt;/keys/partner-local.key</c>. An <c>operator</c> credential is created in
/// <c>&lt;data&gt;/keys/operator.key</c> unless a file names one (or a deployment's file meets a committee): it reads
/// everything and, without a committee, manages the registry (with one, partner changes are proposals). Key files are mode 0600 and
/// written before the partners are sealed, so a crash in between leaves a key that the next start replaces.
/// </summary>
public static class PartnerSetup
{
    public const string LocalPartner = "local";
    public const string OperatorPartner = "operator";

    public static string RegistryPath(string dataDirectory) => Path.Combine(dataDirectory, "partners.json");

    public static string LocalKeyPath(string dataDirectory) => Path.Combine(dataDirectory, "keys", $"partner-{LocalPartner}.key");

    public static string OperatorKeyPath(string dataDirectory) => Path.Combine(dataDirectory, "keys", "operator.key");

    public static async Task<PartnerSetupResult> StartAsync(GovernanceLedger ledger, string dataDirectory, string? registryFile, CancellationToken cancellationToken)
    {
        var registry = new PartnerRegistry(ledger);
        await ledger.SyncAsync(cancellationToken);
        if (ledger.State.Partners.Count > 0)
        {
            return new PartnerSetupResult(registry, null, null, null);
        }

        var file = registryFile ?? RegistryPath(dataDirectory);
        var withoutCommittee = ledger.State.Committee.Count == 0;
        var fromFile = File.Exists(file);
        var partners = fromFile ? ReadRegistryFile(file) : [];
        if (fromFile && partners.Count == 0)
        {
            // A deployment's registry file not filled in yet: wait for one that names partners (imported once, so an
            // empty import would shut out the file's later partners for good).
            return new PartnerSetupResult(registry, null, null, null);
        }

        var written = new List<string>();
        string? localKeyFile = null, operatorKeyFile = null;
        if (!fromFile && withoutCommittee)
        {
            localKeyFile = WriteNewKey(LocalKeyPath(dataDirectory), written, out var hash);
            partners.Add(new PartnerSpec(LocalPartner, "Local partner", PartnerRoles.Partner, [Caller.AnyPrefix], [], [hash], [], null, false));
        }

        // The operator of a machine's own ledger. With a committee it reads everything but changes nothing (partner
        // changes are then proposals); a deployment's file names its own operator or auditors instead.
        if ((!fromFile || withoutCommittee) && partners.All(p => !p.Roles.HasFlag(PartnerRoles.Operator)))
        {
            operatorKeyFile = WriteNewKey(OperatorKeyPath(dataDirectory), written, out var hash);
            partners.Add(new PartnerSpec(OperatorPartner, "Operator", PartnerRoles.Operator, [], [], [hash], [], null, false));
        }

        if (partners.Count == 0 || !await registry.ImportAsync(partners, cancellationToken))
        {
            // Another instance registered the first partners meanwhile: the keys written here belong to no one.
            foreach (var path in written)
            {
                File.Delete(path);
            }

            return new PartnerSetupResult(registry, null, null, null);
        }

        return new PartnerSetupResult(registry, operatorKeyFile, localKeyFile, File.Exists(file) ? file : null);
    }

    private static string WriteNewKey(string path, List<string> written, out string hash)
    {
        var key = PartnerDirectory.NewKey();
        OwnerOnlyFile.Write(path, key);
        written.Add(path);
        hash = PartnerDirectory.HashKey(key);
        return path;
    }

    /// <summary>
    /// The registry file of earlier versions, <c>{"partners":[{"id","keySha256","principalIds"}]}</c>, optionally with
    /// <c>name</c>, <c>roles</c>, <c>prefixes</c> and <c>grantedPrefixes</c>. A partner without prefixes owns none,
    /// except <c>local</c>, the embedded default's one-company partner, which owns every prefix as it did.
    /// </summary>
    private static List<PartnerSpec> ReadRegistryFile(string file)
    {
        RegistryFile? registry;
        try
        {
            registry = JsonSerializer.Deserialize<RegistryFile>(File.ReadAllText(file));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file} is not a partner registry: {ex.Message}", ex);
        }

        var specs = new List<PartnerSpec>();
        foreach (var p in registry?.Partners ?? [])
        {
            var hasKey = p.KeySha256 is { Length: 64 } hash && hash.All(Uri.IsHexDigit);
            var hasPrincipal = p.PrincipalIds is { Count: > 0 } ids && ids.All(id => !string.IsNullOrWhiteSpace(id));
            if (string.IsNullOrWhiteSpace(p.Id) || (p.KeySha256 is not null && !hasKey) || (!hasKey && !hasPrincipal))
            {
                throw new InvalidDataException($"{file}: every partner needs an id and keySha256 (the 64-hex-digit SHA-256 of its API key) and/or principalIds.");
            }

            var roles = PartnerRoles.None;
            foreach (var role in p.Roles ?? ["partner"])
            {
                roles |= Caller.ParseRole(role) ?? throw new InvalidDataException($"{file}: partner '{p.Id}' has unknown role '{role}'.");
            }

            var prefixes = p.Prefixes ?? (p.Id == LocalPartner ? [Caller.AnyPrefix] : []);
            if ((string[])[.. prefixes, .. p.GrantedPrefixes ?? []] is var all && all.FirstOrDefault(x => !CompanyPrefix.IsValid(x)) is { } bad)
            {
                throw new InvalidDataException($"{file}: partner '{p.Id}' lists '{bad}', which is not a GS1 company prefix (4 to 12 digits) or *.");
            }

            specs.Add(new PartnerSpec(p.Id, p.Name ?? p.Id, roles, prefixes, p.GrantedPrefixes ?? [], hasKey ? [p.KeySha256!.ToLowerInvariant()] : [], p.PrincipalIds ?? [], null, false));
        }

        return specs;
    }

    private sealed record RegistryFile([property: JsonPropertyName("partners")] List<RegistryEntry> Partners);

    private sealed record RegistryEntry(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("keySha256")] string? KeySha256,
        [property: JsonPropertyName("principalIds")] List<string>? PrincipalIds = null,
        [property: JsonPropertyName("name")] string? Name = null,
        [property: JsonPropertyName("roles")] List<string>? Roles = null,
        [property: JsonPropertyName("prefixes")] List<string>? Prefixes = null,
        [property: JsonPropertyName("grantedPrefixes")] List<string>? GrantedPrefixes = null);
}
