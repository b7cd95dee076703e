using System.Text.Json;
using Btmc.Governance;
using Btmc.Ledger;

namespace Btmc.Functions.Partners;

/// <summary>
/// The partner registry (docs/partners.md): anyone authenticated reads the partners it may see (itself; auditors and
/// operators every partner); an operator changes it directly on a ledger without a committee. A new or rotated API key
/// is generated here and shown once, in the answer; the registry keeps only its SHA-256.
/// </summary>
public static class PartnerEndpoints
{
    /// <summary>How long a rotated-out key stays valid when the request does not say: a day.</summary>
    public const long DefaultKeyOverlapSeconds = 24 * 3600;

    /// <summary>The request members the payload lines of a partner change are written from, by line name.</summary>
    private static readonly Dictionary<string, string> Members = new(StringComparer.Ordinal)
    {
        ["partner"] = "id", ["name"] = "name", ["roles"] = "roles", ["prefixes"] = "prefixes", ["granted-prefixes"] = "grantedPrefixes",
        ["api-keys"] = "apiKeySha256", ["principal-ids"] = "principalIds", ["signing-key"] = "signingKey",
        ["require-signature"] = "requireSignature", ["key-overlap-seconds"] = "overlapSeconds", ["suspended"] = "suspended",
    };

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/partners", List).WithName(FunctionNames.ListPartners).RequireCaller();
        app.MapGet("/api/partners/{id}", Get).WithName(FunctionNames.GetPartner).RequireCaller();
        app.MapPost("/api/partners", AddAsync).WithName(FunctionNames.AddPartner).RequireCaller(PartnerRoles.Operator);
        app.MapPut("/api/partners/{id}", UpdateAsync).WithName(FunctionNames.UpdatePartner).RequireCaller(PartnerRoles.Operator);
        app.MapPost("/api/partners/{id}/keys", RotateKeyAsync).WithName(FunctionNames.RotatePartnerKey).RequireCaller(PartnerRoles.Operator);
        app.MapPost("/api/partners/{id}/suspension", SuspendAsync).WithName(FunctionNames.SuspendPartner).RequireCaller(PartnerRoles.Operator);
    }

    private static IResult List(HttpContext context, PartnerRegistry registry)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        return Results.Json(new
        {
            partners = registry.Directory.Partners.Values
                .Where(p => caller.SeesEverything || p.Id == caller.PartnerId)
                .OrderBy(p => p.Id, StringComparer.Ordinal)
                .Select(View),
        });
    }

    private static IResult Get(string id, HttpContext context, PartnerRegistry registry)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        return registry.Directory.Partners.TryGetValue(id, out var partner) && (caller.SeesEverything || id == caller.PartnerId)
            ? Results.Json(View(partner))
            : NotFound(id);
    }

    private static async Task<IResult> AddAsync(HttpContext context, PartnerRegistry registry, CancellationToken cancellationToken)
    {
        using var body = await ReadAsync(context, cancellationToken);
        var root = body.RootElement;
        var id = String(root, "id") ?? throw Refused.Invalid("id", "The partner's id is required.");
        string? apiKey = null;
        var keyHash = String(root, "apiKeySha256");
        if (keyHash is null)
        {
            apiKey = PartnerDirectory.NewKey();
            keyHash = PartnerDirectory.HashKey(apiKey);
        }

        var partner = await ChangeAsync(registry, context, new AddPartner(SpecOf(root, id, [keyHash])), cancellationToken);
        return Results.Json(new { partner = View(partner), apiKey }, statusCode: StatusCodes.Status201Created).WithLocation($"/api/partners/{id}");
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext context, PartnerRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.Directory.Partners.TryGetValue(id, out var current))
        {
            return NotFound(id);
        }

        using var body = await ReadAsync(context, cancellationToken);
        var spec = SpecOf(body.RootElement, id, current.Spec.ApiKeySha256, current.Spec);
        return Results.Json(View(await ChangeAsync(registry, context, new UpdatePartner(spec, 0), cancellationToken)));
    }

    private static async Task<IResult> RotateKeyAsync(string id, HttpContext context, PartnerRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.Directory.Partners.TryGetValue(id, out var current))
        {
            return NotFound(id);
        }

        using var body = await ReadAsync(context, cancellationToken, allowEmpty: true);
        var overlap = DefaultKeyOverlapSeconds;
        if (body.RootElement.TryGetProperty("overlapSeconds", out var given))
        {
            overlap = given.ValueKind == JsonValueKind.Number && given.TryGetInt64(out var seconds) && seconds >= 0
                ? seconds
                : throw Refused.Invalid("overlapSeconds", "overlapSeconds is a whole number of seconds, 0 or more.");
        }

        var apiKey = PartnerDirectory.NewKey();
        var spec = current.Spec with { ApiKeySha256 = [PartnerDirectory.HashKey(apiKey)] };
        var partner = await ChangeAsync(registry, context, new UpdatePartner(spec, overlap), cancellationToken);
        return Results.Json(new { partner = View(partner), apiKey });
    }

    private static async Task<IResult> SuspendAsync(string id, HttpContext context, PartnerRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.Directory.Partners.ContainsKey(id))
        {
            return NotFound(id);
        }

        using var body = await ReadAsync(context, cancellationToken, allowEmpty: true);
        var suspended = !body.RootElement.TryGetProperty("suspended", out var given) || given.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Refused.Invalid("suspended", "suspended is true (suspend) or false (reinstate)."),
        };
        return Results.Json(View(await ChangeAsync(registry, context, new SuspendPartner(id, suspended), cancellationToken)));
    }

    private static IResult NotFound(string id) => Problems.NotFound($"There is no partner '{id}'.");

    /// <summary>Makes the change, naming the request member (not the payload line) when it is refused.</summary>
    private static async Task<Partner> ChangeAsync(PartnerRegistry registry, HttpContext context, ProposalAction action, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.ChangeAsync(action, PartnerAuthentication.CallerOf(context).PartnerId, cancellationToken);
        }
        catch (Refused ex) when (Members.TryGetValue(ex.Field, out var member))
        {
            throw new Refused(ex.Kind, member, ex.Message.Replace($"'{ex.Field}'", $"'{member}'", StringComparison.Ordinal), ex.Title);
        }
    }

    /// <summary>The partner a request describes; members it leaves out keep <paramref name="current"/>'s values.</summary>
    private static PartnerSpec SpecOf(JsonElement root, string id, IReadOnlyList<string> keys, PartnerSpec? current = null)
    {
        if (root.TryGetProperty("id", out var given) && given.GetString() != id)
        {
            throw Refused.Invalid("id", $"The body's id '{given}' is not the partner '{id}' of the path.");
        }

        var roles = PartnerRoles.None;
        foreach (var role in Strings(root, "roles") ?? (current is null ? ["partner"] : []))
        {
            roles |= Caller.ParseRole(role) ?? throw Refused.Invalid("roles", $"Unknown role '{role}'; roles are partner, auditor, operator and financier.");
        }

        if (roles == PartnerRoles.None)
        {
            roles = current?.Roles ?? PartnerRoles.Partner;
        }

        EcPublicJwk? signingKey = current?.SigningKey;
        if (root.TryGetProperty("signingKey", out var jwk))
        {
            try
            {
                signingKey = jwk.ValueKind == JsonValueKind.Null ? null
                    : (jwk.Deserialize<EcPublicJwk>() ?? throw new JsonException("it is null")) with { Kid = null };
                _ = signingKey?.ComputeThumbprint();
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException)
            {
                throw Refused.Invalid("signingKey", $"signingKey is not an EC public JWK: {ex.Message}");
            }
        }

        var require = current?.RequireSignature ?? false;
        if (root.TryGetProperty("requireSignature", out var requireElement))
        {
            require = requireElement.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Refused.Invalid("requireSignature", "requireSignature is true or false."),
            };
        }

        return new PartnerSpec(
            id,
            String(root, "name") ?? current?.Name ?? id,
            roles,
            Strings(root, "prefixes") ?? current?.Prefixes ?? [],
            Strings(root, "grantedPrefixes") ?? current?.GrantedPrefixes ?? [],
            keys,
            Strings(root, "principalIds") ?? current?.PrincipalIds ?? [],
            signingKey,
            require);
    }

    private static string? String(JsonElement root, string member) =>
        !root.TryGetProperty(member, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Refused.Invalid(member, $"{member} is a string.");

    private static List<string>? Strings(JsonElement root, string member) =>
        !root.TryGetProperty(member, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String)
            ? value.EnumerateArray().Select(v => v.GetString()!).ToList()
            : throw Refused.Invalid(member, $"{member} is an array of strings.");

    private static async Task<JsonDocument> ReadAsync(HttpContext context, CancellationToken cancellationToken, bool allowEmpty = false)
    {
        // Small bodies; read whole, so that an empty one (with or without a Content-Length) is told from JSON.
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, cancellationToken);
        if (allowEmpty && buffer.Length == 0)
        {
            return JsonDocument.Parse("{}");
        }

        try
        {
            var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw Refused.Invalid("body", "The body is a JSON object.");
            }

            return document;
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not JSON: {ex.Message}");
        }
    }

    /// <summary>A partner as the API shows it: its description, its keys by hash (with when a replaced one expires), its state.</summary>
    internal static object View(Partner partner) => new
    {
        id = partner.Id,
        name = partner.Spec.Name,
        roles = Caller.Format(partner.Spec.Roles).Split(','),
        prefixes = partner.Spec.Prefixes,
        grantedPrefixes = partner.Spec.GrantedPrefixes,
        apiKeys = partner.ApiKeys.Select(k => new { sha256 = k.Sha256, notAfter = k.NotAfter }),
        principalIds = partner.Spec.PrincipalIds,
        signingKey = partner.Spec.SigningKey,
        requireSignature = partner.Spec.RequireSignature,
        suspended = partner.Suspended,
        updatedAt = partner.UpdatedAt,
    };
}
