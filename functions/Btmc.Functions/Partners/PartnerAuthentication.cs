using Btmc.Governance;
using Btmc.Ledger;

namespace Btmc.Functions.Partners;

/// <summary>
/// Every endpoint but the health answer and hash-only material requires an authenticated, active partner of the
/// registry the governance chain holds (docs/partners.md), found in this order:
/// <list type="number">
/// <item>behind App Service authentication (setting <c>Partners:TrustAppServicePrincipal</c> = true, which only an
/// Azure deployment with authentication enabled may set: there the platform strips the header from outside
/// requests), the principal in <c>X-MS-CLIENT-PRINCIPAL-ID</c>, registered under the partner's principal ids;</item>
/// <item>a registered, unexpired API key in <c>X-API-Key</c>, or the Functions host key the caller presented to the
/// host (<c>x-functions-key</c> header or <c>code</c> query value, forwarded with the request).</item>
/// </list>
/// Answers 401 problem+json otherwise, and 403 when the partner lacks the endpoint's role; the caller is then
/// available to the endpoint through <see cref="CallerOf"/>. A suspended partner or a retired key is refused from the
/// first request after this instance reads the governance block that says so (<see cref="Governance.GovernanceSync"/>).
/// </summary>
public static class PartnerAuthentication
{
    public const string HeaderName = "X-API-Key";

    /// <summary>The header the Functions host reads a host or function key from (or the <c>code</c> query value).</summary>
    public const string FunctionsKeyHeader = "x-functions-key";

    /// <summary>The object id App Service authentication puts on a signed-in request (and strips from any other).</summary>
    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";

    private const string ItemKey = "btmc.caller";

    /// <summary>Requires an authenticated partner holding <paramref name="role"/> (any role when None).</summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder builder, PartnerRoles role = PartnerRoles.None)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var partner = Authenticate(http);
            if (partner is null)
            {
                http.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{HeaderName}\"";
                return Problems.OfField(StatusCodes.Status401Unauthorized, "Partner not authenticated",
                    $"This endpoint needs an active registered partner's API key in the {HeaderName} header.", HeaderName);
            }

            var caller = partner.AsCaller();
            if (role != PartnerRoles.None && !caller.Has(role))
            {
                return Problems.OfField(StatusCodes.Status403Forbidden, "Not permitted",
                    $"Partner '{caller.PartnerId}' has roles {Caller.Format(caller.Roles)}; this needs role {Caller.Format(role)}.", "roles");
            }

            http.Items[ItemKey] = caller;
            return await next(context);
        });

    public static Caller CallerOf(HttpContext context) =>
        context.Items[ItemKey] as Caller ?? throw new InvalidOperationException("The endpoint does not require a caller.");

    private static Partner? Authenticate(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<PartnerRegistry>();
        var configuration = http.RequestServices.GetRequiredService<IConfiguration>();
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        var request = http.Request;
        var directory = registry.Directory;
        Partner? partner = null;
        if (configuration.GetValue<bool>("Partners:TrustAppServicePrincipal"))
        {
            partner = directory.AuthenticatePrincipal(request.Headers[PrincipalIdHeader].FirstOrDefault());
        }

        return partner ?? directory.Authenticate(request.Headers[HeaderName].FirstOrDefault()
            ?? request.Headers[FunctionsKeyHeader].FirstOrDefault()
            ?? request.Query["code"].FirstOrDefault(), time.GetUtcNow());
    }
}
