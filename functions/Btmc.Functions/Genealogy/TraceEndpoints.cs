using System.Globalization;
using Btmc.Functions.Partners;
using Btmc.Supply;
using Btmc.Supply.Genealogy;
using Btmc.Supply.Receipts;

namespace Btmc.Functions.Genealogy;

/// <summary>
/// Lot genealogy: <c>GET /api/trace/{epc}?direction=upstream|downstream&amp;depth=N</c> returns the graph;
/// <c>GET /api/trace/{epc}/proof</c> the same graph as a lineage bundle with a receipt per event. The identifier is
/// the rest of the path (URL-encoded or not: a Digital Link URI has slashes of its own).
/// </summary>
public static class TraceEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/trace/{**epc}", TraceAsync).WithName(FunctionNames.Trace).RequireCaller();

    private static async Task<IResult> TraceAsync(string epc, HttpContext context, HttpRequest request, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var (id, proof) = IdentifierPath.Decode(epc);

        var direction = request.Query["direction"].FirstOrDefault() ?? "upstream";
        if (direction is not ("upstream" or "downstream"))
        {
            return Invalid("direction", $"'{direction}' is not a direction: expected upstream or downstream.");
        }

        var depthText = request.Query["depth"].FirstOrDefault();
        var depth = 10;
        if (depthText is not null && (!int.TryParse(depthText, NumberStyles.None, CultureInfo.InvariantCulture, out depth) || depth < 1 || depth > GenealogyTracer.MaxDepth))
        {
            return Invalid("depth", $"'{depthText}' is not a depth: expected a whole number from 1 to {GenealogyTracer.MaxDepth}.");
        }

        var graph = await backend.Genealogy.TraceAsync(id, direction == "upstream", depth, PartnerAuthentication.CallerOf(context), cancellationToken);
        if (!proof)
        {
            return Results.Json(graph, Receipt.JsonOptions);
        }

        var bundle = await LineageBundle.BuildAsync(graph, backend.Receipts, cancellationToken);
        return Results.Text(bundle.ToJson(), "application/json");
    }

    private static IResult Invalid(string parameter, string detail) =>
        Problems.Of(StatusCodes.Status400BadRequest, "Invalid trace request", $"{parameter}: {detail}", [new Epcis.EpcisProblem(null, parameter, detail)]);
}
