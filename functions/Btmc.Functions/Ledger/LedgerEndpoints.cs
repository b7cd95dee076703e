using Btmc.Supply;

namespace Btmc.Functions.Ledger;

/// <summary>Receipts, chains, blocks and whole-ledger verification.</summary>
public static class LedgerEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ledger/receipts/{*eventId}", GetReceiptAsync).WithName(FunctionNames.GetReceipt);
        app.MapGet("/api/ledger/chains", ListChainsAsync).WithName(FunctionNames.ListChains);
        app.MapGet("/api/ledger/chains/{chainId}/blocks/{height:long}", GetBlockAsync).WithName(FunctionNames.GetBlock);
        app.MapGet("/api/ledger/verify", VerifyAsync).WithName(FunctionNames.VerifyLedger);
    }

    private static async Task<IResult> GetReceiptAsync(string eventId, SupplyBackend backend, HttpResponse response, CancellationToken cancellationToken)
    {
        eventId = Uri.UnescapeDataString(eventId);
        var receipt = await backend.Reader.GetReceiptAsync(eventId, cancellationToken);
        if (receipt is not null)
        {
            return Results.Json(receipt, Receipt.JsonOptions);
        }

        if (backend.Pending.TryGet(eventId, out _))
        {
            response.Headers.RetryAfter = "1";
            return Problems.Of(StatusCodes.Status404NotFound, "Not sealed yet", $"Event '{eventId}' is accepted and awaiting sealing; its receipt exists once its block is committed.");
        }

        return Problems.NotFound($"No sealed event '{eventId}'.");
    }

    private static async Task<IResult> ListChainsAsync(SupplyBackend backend, CancellationToken cancellationToken)
    {
        var heads = await backend.Reader.ListChainsAsync(cancellationToken);
        return Results.Json(new
        {
            chains = heads.Select(h => new
            {
                chainId = h.ChainId,
                height = h.Height,
                headHash = h.BlockHash.ToHex(),
                totalEntries = h.TotalEntries,
                nextSequenceNumber = h.NextSequenceNumber,
            }),
            totalEntries = heads.Sum(h => h.TotalEntries),
            pending = backend.Pending.Count,
        });
    }

    private static async Task<IResult> GetBlockAsync(string chainId, long height, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var block = await backend.Reader.GetBlockAsync(chainId, height, cancellationToken);
        if (block is null)
        {
            return Problems.NotFound($"No block {height} in chain '{chainId}'.");
        }

        var entries = await backend.Reader.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken);
        return Results.Json(new
        {
            chainId,
            height,
            blockHash = block.BlockHash.ToHex(),
            header = ReceiptHeader.From(block.Header),
            signature = Convert.ToBase64String(block.Signature),
            logFrom = block.LogFrom,
            logTo = block.LogTo,
            entries = entries.Select(e => new { leafIndex = e.LeafIndex, eventId = e.EventId, eventHash = e.EventHash.ToHex() }),
        });
    }

    private static async Task<IResult> VerifyAsync(SupplyBackend backend, CancellationToken cancellationToken)
    {
        var chains = await backend.Auditor.KnownChainsAsync(backend.ChainIds, cancellationToken);
        var audit = await backend.Auditor.AuditAsync(chains, cancellationToken);
        return Results.Json(audit);
    }
}
