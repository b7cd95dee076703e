using Btmc.Functions.Partners;
using Btmc.Supply;
using Btmc.Supply.Receipts;

namespace Btmc.Functions.Assets;

/// <summary>
/// Ownership (docs/trade.md, "Ownership"): <c>GET /api/assets/{epc}</c> answers an identifier's owner, custodian and
/// history; <c>GET /api/assets/{epc}/proof</c> the same as an asset bundle (<c>btmc-asset/1</c>) with a receipt per
/// event the derivation read. The identifier is the rest of the path (URL-encoded or not: a Digital Link URI has slashes
/// of its own). Any authenticated partner may ask; what it may not see is 404 or redacted.
/// </summary>
public static class AssetEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/assets/{**epc}", GetAsync).WithName(FunctionNames.GetAsset).RequireCaller();

    private static async Task<IResult> GetAsync(string epc, HttpContext context, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var (id, proof) = IdentifierPath.Decode(epc);

        var caller = PartnerAuthentication.CallerOf(context);
        if (!proof)
        {
            return await backend.Assets.GetAsync(id, caller, cancellationToken) is { } view
                ? Results.Json(view, Receipt.JsonOptions)
                : NotFound(id);
        }

        return await backend.Assets.BundleAsync(id, caller, backend.Receipts, cancellationToken) is { } bundle
            ? Results.Text(bundle.ToJson(), "application/json")
            : NotFound(id);
    }

    // One answer for "no recorded owner" and "not yours to see", so that a 404 tells a competitor nothing.
    private static IResult NotFound(string epc) =>
        Problems.OfField(StatusCodes.Status404NotFound, "No recorded owner",
            $"The ledger records no owner of '{epc}' that this partner may see.", "epc");
}
