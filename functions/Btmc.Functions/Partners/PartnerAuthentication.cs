namespace Btmc.Functions.Partners;

/// <summary>
/// Write endpoints require an authenticated partner (docs/partners.md), found in this order:
/// <list type="number">
/// <item>behind App Service authentication (setting <c>Partners:TrustAppServicePrincipal</c> = true, which only an
/// Azure deployment with authentication enabled may set: there the platform strips the header from outside
/// requests), the principal in <c>X-MS-CLIENT-PRINCIPAL-ID</c>, registered under the partner's principalIds;</item>
/// <item>a registered key in <c>X-API-Key</c>, or the Functions host key the caller presented to the host
/// (<c>x-functions-key</c> header or <c>code</c> query value, forwarded with the request).</item>
/// </list>
/// Answers 401 problem+json otherwise; the partner id is then available to the endpoint through <see cref="PartnerOf"/>.
/// Such an endpoint is a function with authLevel "function" in the deployed layout (<see cref="IsRequiredBy"/>).
/// </summary>
public static class PartnerAuthentication
{
    private const string ItemKey = "btmc.partner";

    /// <summary>The endpoint metadata that marks an endpoint as requiring a partner.</summary>
    private sealed class PartnerRequired;

    private static readonly PartnerRequired Marker = new();

    public static TBuilder RequirePartner<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var keys = context.HttpContext.RequestServices.GetRequiredService<PartnerKeys>();
            var configuration = context.HttpContext.RequestServices.GetRequiredService<IConfiguration>();
            var request = context.HttpContext.Request;
            string? partner = null;
            if (configuration.GetValue<bool>("Partners:TrustAppServicePrincipal"))
            {
                partner = keys.AuthenticatePrincipal(request.Headers[PartnerKeys.PrincipalIdHeader].FirstOrDefault());
            }

            partner ??= keys.Authenticate(request.Headers[PartnerKeys.HeaderName].FirstOrDefault()
                ?? request.Headers[PartnerKeys.FunctionsKeyHeader].FirstOrDefault()
                ?? request.Query["code"].FirstOrDefault());
            if (partner is null)
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{PartnerKeys.HeaderName}\"";
                return Problems.Of(StatusCodes.Status401Unauthorized, "Partner not authenticated",
                    $"Writing requires a registered partner's API key in the {PartnerKeys.HeaderName} header.");
            }

            context.HttpContext.Items[ItemKey] = partner;
            return await next(context);
        }).WithMetadata(Marker);

    public static bool IsRequiredBy(Endpoint endpoint) => endpoint.Metadata.GetMetadata<PartnerRequired>() is not null;

    public static string PartnerOf(HttpContext context) =>
        context.Items[ItemKey] as string ?? throw new InvalidOperationException("The endpoint does not require a partner.");
}
