using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Btmc.Supply;
using Btmc.Trade;

namespace Btmc.Functions.Trade;

/// <summary>
/// Chip trade and receivables finance (docs/trade.md). Trade documents: <c>POST /api/trade/orders</c>,
/// <c>/api/trade/despatch-advices</c>, <c>/api/trade/invoices</c>, <c>/api/trade/acknowledgements</c>;
/// <c>GET /api/trade/records/{id}</c> and its receipt <c>/api/trade/receipts/{id}</c>. Receivables:
/// <c>GET|POST /api/finance/receivables</c>, <c>GET /api/finance/receivables/{id}</c> (with its proofs),
/// <c>POST …/{id}/financing</c> and <c>POST …/{id}/repayments</c>. Every write is sealed before it is answered: 201
/// when this request sealed it, 200 when it was sealed already (a retry).
/// </summary>
public static class TradeEndpoints
{
    /// <summary>The largest request body taken: a document of a thousand lines is about 100 KiB.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/trade/orders", (HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<OrderRequest>(c, (caller, r) => t.RecordOrderAsync(caller, r, ct), ct))
            .WithName(FunctionNames.RecordOrder).RequireCaller(PartnerRoles.Partner);
        app.MapPost("/api/trade/despatch-advices", (HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<SellerDocumentRequest>(c, (caller, r) => t.RecordDespatchAsync(caller, r, ct), ct))
            .WithName(FunctionNames.RecordDespatchAdvice).RequireCaller(PartnerRoles.Partner);
        app.MapPost("/api/trade/invoices", (HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<SellerDocumentRequest>(c, (caller, r) => t.RecordInvoiceAsync(caller, r, ct), ct))
            .WithName(FunctionNames.RecordInvoice).RequireCaller(PartnerRoles.Partner);
        app.MapPost("/api/trade/acknowledgements", (HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<AcknowledgementRequest>(c, (caller, r) => t.AcknowledgeAsync(caller, r, ct), ct))
            .WithName(FunctionNames.AcknowledgeInvoice).RequireCaller(PartnerRoles.Partner);
        app.MapGet("/api/trade/records/{**id}", GetRecordAsync).WithName(FunctionNames.GetTradeRecord).RequireCaller();
        app.MapGet("/api/trade/receipts/{**id}", GetReceiptAsync).WithName(FunctionNames.GetTradeReceipt).RequireCaller();
        app.MapGet("/api/finance/receivables", ListReceivablesAsync).WithName(FunctionNames.ListReceivables).RequireCaller();
        app.MapPost("/api/finance/receivables", (HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<OfferRequest>(c, (caller, r) => t.OfferAsync(caller, r, ct), ct))
            .WithName(FunctionNames.OfferReceivable).RequireCaller(PartnerRoles.Partner);
        app.MapGet("/api/finance/receivables/{id}", GetReceivableAsync).WithName(FunctionNames.GetReceivable).RequireCaller();
        app.MapPost("/api/finance/receivables/{id}/financing", (string id, HttpContext c, TradeService t, CancellationToken ct) =>
            WriteAsync<FinancingRequest>(c, (caller, r) => t.FinanceAsync(caller, id, r, ct), ct, emptyBody: new FinancingRequest()))
            .WithName(FunctionNames.FinanceReceivable).RequireCaller(PartnerRoles.Financier);
        app.MapPost("/api/finance/receivables/{id}/repayments", (string id, HttpContext c, TradeService t, CancellationToken ct) => WriteAsync<RepaymentRequest>(c, (caller, r) => t.RepayAsync(caller, id, r, ct), ct))
            .WithName(FunctionNames.RepayReceivable).RequireCaller();
    }

    private static async Task<IResult> WriteAsync<T>(HttpContext context, Func<Caller, T, Task<TradeRecordView>> write, CancellationToken cancellationToken, T? emptyBody = null)
        where T : class
    {
        var request = await ReadAsync(context.Request, emptyBody, cancellationToken);
        var view = await write(PartnerAuthentication.CallerOf(context), request);
        return Results.Json(view, TradeRecord.Json, statusCode: view.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK)
            .WithLocation("/api/trade/records/" + view.Id);
    }

    private static async Task<IResult> GetRecordAsync(string id, HttpContext context, TradeService trade, CancellationToken cancellationToken) =>
        await trade.GetAsync(PartnerAuthentication.CallerOf(context), id, cancellationToken) is { } view
            ? Results.Json(view, TradeRecord.Json)
            : Problems.NotFound($"There is no trade record {id} that you may see.");

    private static async Task<IResult> GetReceiptAsync(string id, HttpContext context, TradeService trade, SupplyBackend supply, CancellationToken cancellationToken)
    {
        if (await trade.GetAsync(PartnerAuthentication.CallerOf(context), id, cancellationToken) is not { } view)
        {
            return Problems.NotFound($"There is no trade record {id} that you may see.");
        }

        var receipt = await supply.Receipts.GetRecordAsync(view.Position, id, cancellationToken);
        return Results.Text(receipt.ToJson(), "application/json");
    }

    private static async Task<IResult> ListReceivablesAsync(HttpContext context, TradeService trade, CancellationToken cancellationToken)
    {
        var status = context.Request.Query["status"].FirstOrDefault();
        if (status is not (null or "offered" or "financed" or "released"))
        {
            throw Refused.Invalid("status", $"'{status}' is not a receivable status: offered, financed or released.");
        }

        return Results.Json(new { receivables = await trade.ListReceivablesAsync(PartnerAuthentication.CallerOf(context), status, cancellationToken) }, TradeRecord.Json);
    }

    private static async Task<IResult> GetReceivableAsync(string id, HttpContext context, TradeService trade, SupplyBackend supply, CancellationToken cancellationToken) =>
        await ReceivableBundle.BuildAsync(trade, supply.Receipts, PartnerAuthentication.CallerOf(context), id, cancellationToken) is { } bundle
            ? Results.Text(bundle.ToJson(), "application/json")
            : Problems.NotFound($"There is no receivable {id} that you may see.");

    /// <summary>Reads a JSON request body; a malformed one is refused naming the member the parser stopped at.</summary>
    private static async Task<T> ReadAsync<T>(HttpRequest request, T? emptyBody, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new Refused(RefusalKind.TooLarge, "body", $"The body is {request.ContentLength} bytes; at most {MaxBodyBytes} are taken.");
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > MaxBodyBytes)
        {
            throw new Refused(RefusalKind.TooLarge, "body", $"The body is over {MaxBodyBytes} bytes.");
        }

        if (buffer.Length == 0 && emptyBody is not null)
        {
            return emptyBody;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), JsonSerializerOptions.Web)
                ?? throw Refused.Invalid("body", "The body is JSON null; it is an object.");
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path.TrimStart('$', '.').Replace('.', '/').Replace("[", "/", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal) : "body";
            throw Refused.Invalid(field, $"The body is not a valid request: {ex.Message}");
        }
    }
}
