using System.Text.Json;
using Btmc.Chains;
using Btmc.Functions.Host;
using Btmc.Functions.Partners;
using Btmc.Governance;
using Btmc.Supply;
using Btmc.Supply.Access;
using Btmc.Supply.Receipts;
using Btmc.Supply.Sealing;

namespace Btmc.Functions.Ledger;

/// <summary>Receipts, chains, blocks and whole-ledger verification.</summary>
public static class LedgerEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ledger/receipts/{*eventId}", GetReceiptAsync).WithName(FunctionNames.GetReceipt).RequireCaller();
        app.MapGet("/api/ledger/chains", ListChainsAsync).WithName(FunctionNames.ListChains);
        app.MapGet("/api/ledger/chains/{chainId}/blocks/{height:long}", GetBlockAsync).WithName(FunctionNames.GetBlock);
        app.MapGet("/api/ledger/verify", VerifyAsync).WithName(FunctionNames.VerifyLedger);
        app.MapPost("/" + FunctionNames.AuditLedger, AuditOnScheduleAsync).WithName(FunctionNames.AuditLedger).WithMetadata(AuditSchedule);
    }

    /// <summary>
    /// The scheduled audit: a timer function (daily at 02:30 UTC) that re-derives every chain from the stored data, as
    /// <c>GET /api/ledger/verify</c> does, and fails the invocation (500, which Application Insights records as a
    /// failed run) when a chain is damaged, naming the chain, the block and the reason.
    /// </summary>
    public static readonly TriggerFunction AuditSchedule = TriggerFunction.Timer("0 30 2 * * *");

    /// <summary>The receipt of an event the caller may see (docs/partners.md); any other is answered as if absent.</summary>
    private static async Task<IResult> GetReceiptAsync(string eventId, HttpContext context, SupplyBackend backend, HttpResponse response, CancellationToken cancellationToken)
    {
        eventId = Uri.UnescapeDataString(eventId);
        var caller = PartnerAuthentication.CallerOf(context);
        var receipt = await backend.Receipts.GetAsync(eventId, cancellationToken);
        if (receipt is not null)
        {
            return receipt.Event is { } sealedEvent && EventAccess.CanSee(caller, receipt.Partner, sealedEvent)
                ? Results.Json(receipt, Receipt.JsonOptions)
                : Problems.NotFound($"No sealed event '{eventId}'.");
        }

        if (backend.Pending.TryGet(eventId, out var waiting) && EventAccess.CanSee(caller, waiting.Partner, waiting.Json))
        {
            response.Headers.RetryAfter = "1";
            return Problems.Of(StatusCodes.Status404NotFound, "Not sealed yet", $"Event '{eventId}' is accepted and awaiting sealing; its receipt exists once its block is committed.");
        }

        return Problems.NotFound($"No sealed event '{eventId}'.");
    }

    /// <summary>
    /// Every chain's head and, on the embedded log, how its sealing stands (<see cref="SealingWatch"/>): events waiting,
    /// the oldest one's age, the sealer's state and last error, and whether it is late or stalled and why. On Event
    /// Hubs, the age of this instance's oldest accepted-but-unsealed event. While the table store is out of reach the
    /// heads are unknown (<c>totalEntries</c> null, <c>store.error</c> says why) and the sealing view still answers:
    /// that is when it matters most.
    /// </summary>
    private static async Task<IResult> ListChainsAsync(SupplyBackend backend, SealingWatch watch, CancellationToken cancellationToken)
    {
        Dictionary<string, ChainHead> heads;
        string? storeError = null;
        try
        {
            heads = (await backend.Reader.ListChainsAsync(cancellationToken)).ToDictionary(h => h.ChainId, StringComparer.Ordinal);
        }
        catch (Exception ex) when (BtmcServer.IsStorageOutage(ex))
        {
            heads = [];
            storeError = ex.Message;
        }

        var sealing = (await watch.InspectAsync(cancellationToken)).ToDictionary(s => s.ChainId, StringComparer.Ordinal);
        var now = backend.Time.GetUtcNow();
        return Results.Json(new
        {
            store = storeError is null ? null : new { error = storeError },
            chains = backend.ChainIds.Where(id => heads.ContainsKey(id) || sealing.ContainsKey(id)).Select(id =>
            {
                var h = heads.GetValueOrDefault(id);
                var s = sealing.GetValueOrDefault(id);
                return new
                {
                    chainId = id,
                    height = h?.Height ?? -1,
                    headHash = h?.BlockHash.ToHex(),
                    totalEntries = h?.TotalEntries ?? 0,
                    nextSequenceNumber = h?.NextSequenceNumber ?? 0,
                    unsealed = s?.Unsealed,
                    oldestUnsealedAgeMs = s?.OldestUnsealedAge?.TotalMilliseconds,
                    sealer = s is null ? null : SealerView(s),
                };
            }),
            totalEntries = storeError is null ? heads.Values.Sum(h => h.TotalEntries) : (long?)null,
            pending = backend.Pending.Count,
            oldestPendingAgeMs = backend.OnEventHubs && backend.Pending.OldestReceivedAt() is { } oldest ? (now - oldest).TotalMilliseconds : (double?)null,
        });
    }

    /// <summary>A chain's sealer as the chains view and the capture status show it.</summary>
    internal static object SealerView(ChainSealing s) => new
    {
        state = s.Sealer.State,
        since = s.Sealer.State == SealerStates.NotOwner ? (DateTimeOffset?)null : s.Sealer.Since,
        lastProgressAt = s.Sealer.State == SealerStates.NotOwner ? (DateTimeOffset?)null : s.Sealer.LastProgressAt,
        lastError = s.Sealer.LastError,
        lastErrorAt = s.Sealer.LastErrorAt,
        late = s.Late,
        stalled = s.Stalled,
        reason = s.Reason,
    };

    private static async Task<IResult> GetBlockAsync(string chainId, long height, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var block = await backend.Reader.Chain.GetBlockAsync(chainId, height, cancellationToken);
        if (block is null)
        {
            return Problems.NotFound($"No block {height} in chain '{chainId}'.");
        }

        var entries = await backend.Reader.Chain.ReadEntriesAsync(chainId, height, block.BlockHash, block.Header.LeafCount, withEvents: false, cancellationToken);
        return Results.Json(new
        {
            chainId,
            height,
            blockHash = block.BlockHash.ToHex(),
            header = ReceiptHeader.From(block.Header),
            signature = Convert.ToBase64String(block.Signature),
            logFrom = block.LogFrom,
            logTo = block.LogTo,
            logId = block.LogId,
            committedAt = block.CommittedAt,
            entries = entries.Select(e => new { leafIndex = e.LeafIndex, eventId = e.EventId, eventHash = e.EventHash.ToHex(), receivedAt = e.ReceivedAt }),
        });
    }

    private static async Task<IResult> VerifyAsync(SupplyBackend backend, LedgerAuditor auditor, CancellationToken cancellationToken) =>
        Results.Json(await auditor.AuditAsync(backend.ChainIds, SupplyAuditor.CheckEntry, cancellationToken));

    private static async Task<IResult> AuditOnScheduleAsync(HttpRequest request, SupplyBackend backend, LedgerAuditor auditor, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(FunctionNames.AuditLedger);
        using (var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken))
        {
            // The TimerInfo is only reported: a late run audits the same way.
            var pastDue = Invocation.Member(document.RootElement, "Data") is { } data && Invocation.Member(data, "timer") is { } timer
                && Invocation.Member(timer, "IsPastDue") is { ValueKind: JsonValueKind.True };
            if (pastDue)
            {
                logger.LogWarning("{Function}: the run is past due", FunctionNames.AuditLedger);
            }
        }

        var audit = await auditor.AuditAsync(backend.ChainIds, SupplyAuditor.CheckEntry, cancellationToken);
        var lines = audit.Chains.Select(c => c.Fault is { } fault
            ? $"{c.ChainId}: DAMAGED at block {fault.Height}: {fault.Reason}"
            : $"{c.ChainId}: {c.Blocks} blocks, {c.Entries} entries verified").ToList();
        if (audit.IsValid)
        {
            logger.LogInformation("{Function}: {Summary}", FunctionNames.AuditLedger, string.Join("; ", lines));
            return InvocationResult.Completed(lines);
        }

        logger.LogError("{Function}: {Summary}", FunctionNames.AuditLedger, string.Join("; ", lines));
        return Problems.Of(StatusCodes.Status500InternalServerError, "Ledger damaged", string.Join("; ", lines.Where(l => l.Contains("DAMAGED", StringComparison.Ordinal))));
    }
}
