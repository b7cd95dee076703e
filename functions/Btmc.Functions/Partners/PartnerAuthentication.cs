namespace Btmc.Functions.Partners;

/// <summary>
/// Write endpoints require an authenticated partner: the <c>X-API-Key</c> header must hold a registered key.
/// Answers 401 problem+json otherwise; the partner id is then available to the endpoint through <see cref="PartnerOf"/>.
/// </summary>
public static class PartnerAuthentication
{
    private const string ItemKey = "btmc.partner";

    public static TBuilder RequirePartner<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var keys = context.HttpContext.RequestServices.GetRequiredService<PartnerKeys>();
            var partner = keys.Authenticate(context.HttpContext.Request.Headers[PartnerKeys.HeaderName].FirstOrDefault());
            if (partner is null)
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{PartnerKeys.HeaderName}\"";
                return Problems.Of(StatusCodes.Status401Unauthorized, "Partner not authenticated",
                    $"Writing requires a registered partner's API key in the {PartnerKeys.HeaderName} header.");
            }

            context.HttpContext.Items[ItemKey] = partner;
            return await next(context);
        });

    public static string PartnerOf(HttpContext context) =>
        context.Items[ItemKey] as string ?? throw new InvalidOperationException("The endpoint does not require a partner.");
}
