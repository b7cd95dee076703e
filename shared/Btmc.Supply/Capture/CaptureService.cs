using System.Security.Cryptography;
using System.Text;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Access;
using Btmc.Supply.MasterData;
using Btmc.Supply.Query;
using Btmc.Supply.Sealing;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Capture;

/// <summary>Accepted: every event is durable on the supply-events stream (or was already recorded, by any partner). <see cref="EventIds"/>
/// are the events' ledger ids (CBV 2.0 event hash IDs) in document order. <see cref="Repeated"/> when the same partner
/// had already submitted the same document.</summary>
public sealed record CaptureAccepted(string CaptureId, IReadOnlyList<string> EventIds, int NewEvents, bool Repeated);

/// <summary>
/// Sequencing: validates a capture document, assigns each event its identity and partition key, and makes it
/// durable on the supply-events stream before answering. Nothing of a refused document is accepted.
/// </summary>
/// <param name="checkSealed">Whether to look for a sealed copy of each new event (the embedded log, where the
/// sealed-event filter is complete). On Event Hubs the sealer drops such copies instead.</param>
public sealed class CaptureService(SupplyOptions options, SupplyTables tables, ISupplyEventPublisher publisher, PendingEvents pending, SupplyReader reader, SealedEventFilter sealedEvents, PhysicalConsistency consistency, bool checkSealed, TimeProvider time, TermIndex terms)
{
    /// <summary>Set when this server cannot seal what it would accept (<see cref="SupplyBackend.ClaimSealingAsync"/>): every capture is refused with it.</summary>
    public string? NotSealingReason { get; set; }

    private readonly MasterDataStore _masterData = new(tables, time);

    /// <summary>Whether the committee has approved declaring the event erroneous (an executed declare-error proposal):
    /// then any partner may capture its error declaration. Set by the server from the governance chain.</summary>
    public Func<string, bool> IsErrorDeclarationApproved { get; set; } = _ => false;

    /// <summary>Captures an unsigned document as a partner that owns every company prefix (the embedded tools and benchmarks).</summary>
    public Task<CaptureAccepted> CaptureAsync(string partner, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        CaptureAsync(partner, body, signature: null, cancellationToken);

    /// <summary>Captures as a partner that owns every company prefix, signed when <paramref name="signature"/> is set.</summary>
    public Task<CaptureAccepted> CaptureAsync(string partner, ReadOnlyMemory<byte> body, SignedCapture? signature, CancellationToken cancellationToken = default) =>
        CaptureAsync(new Caller(partner, PartnerRoles.Partner, [Caller.AnyPrefix], []), body, signature, cancellationToken);

    /// <summary>Captures a document as <paramref name="caller"/>, who must be allowed to commission what it commissions
    /// and to declare erroneous what it declares (403 naming the identifier otherwise); see docs/epcis-capture.md.</summary>
    /// <param name="signature">The partner's signature over the request body, already verified by the caller against the
    /// partner's registered key (the body it covers may differ from <paramref name="body"/>: an XML request is converted
    /// to JSON-LD first). Every new event of the capture carries it to its leaf (format 0x03), and the capture record
    /// keeps it. A repeated capture (same partner, same document) answers the first record, signed or not.</param>
    public async Task<CaptureAccepted> CaptureAsync(Caller caller, ReadOnlyMemory<byte> body, SignedCapture? signature = null, CancellationToken cancellationToken = default)
    {
        var partner = caller.PartnerId;
        if (NotSealingReason is { } reason)
        {
            throw Refusal(RefusalKind.Busy, "Not the sealing server", [new EpcisProblem(null, string.Empty, reason + " Nothing of this document was accepted.")]);
        }

        if (body.Length > options.MaxCaptureBytes)
        {
            throw Refusal(RefusalKind.TooLarge, "Capture too large", [new EpcisProblem(null, string.Empty, $"The body is {body.Length} bytes; at most {options.MaxCaptureBytes} bytes are accepted per capture.")]);
        }

        var receivedAt = time.GetUtcNow();
        var read = EpcisDocumentReader.Read(body, receivedAt);
        if (!read.IsValid)
        {
            throw Refusal(RefusalKind.Invalid, "Invalid capture document", read.Problems);
        }

        if (read.Events.Count > options.MaxEventsPerCapture)
        {
            throw Refusal(RefusalKind.TooLarge, "Too many events", [new EpcisProblem(null, "/epcisBody/eventList", $"The document holds {read.Events.Count} events; at most {options.MaxEventsPerCapture} are accepted per capture.")]);
        }

        var oversized = read.Events.Where(e => e.Json.Length > options.MaxEventBytes).ToList();
        if (oversized.Count > 0)
        {
            throw Refusal(RefusalKind.TooLarge, "Event too large", oversized
                .Select(e => new EpcisProblem(e.Index, e.Pointer, $"The event is {e.Json.Length} bytes as stored; at most {options.MaxEventBytes} bytes are accepted per event."))
                .ToList());
        }

        await CheckRightsAsync(caller, read.Events, cancellationToken).ConfigureAwait(false);
        if (MasterDataStore.Forbidden(caller, read.MasterData) is { Count: > 0 } masterDataProblems)
        {
            throw Refusal(RefusalKind.Forbidden, "Not permitted", masterDataProblems);
        }

        var captureId = CaptureIdOf(partner, body.Span);
        var previous = await reader.GetCaptureEventIdsAsync(captureId, cancellationToken).ConfigureAwait(false);
        if (previous is not null)
        {
            return new CaptureAccepted(captureId, previous, 0, Repeated: true);
        }

        if (pending.Count + read.Events.Count > options.MaxPendingEvents)
        {
            throw Refusal(RefusalKind.Busy, "Sealing backlog full", [new EpcisProblem(null, string.Empty,
                $"{pending.Count} accepted events await sealing and at most {options.MaxPendingEvents} may; retry shortly. Nothing of this document was accepted.")]);
        }

        var registered = new List<PendingEvent>(read.Events.Count);
        var registeredTerms = new List<(int Index, string EventId, EventTerms Terms)>(read.Events.Count);
        var registeredElsewhere = new List<PendingEvent>();
        var problems = new List<EpcisProblem>();
        var inDocument = new HashSet<string>(StringComparer.Ordinal);
        PendingEvent? registering = null;
        try
        {
            foreach (var evt in read.Events)
            {
                // The same event twice in one document (by its hash ID, however it is written) is one event.
                if (!inDocument.Add(evt.EventId))
                {
                    continue;
                }

                var key = EventKey.For(evt.EventId, options.Partitions);
                var partitionKey = SupplyPartitionKey.Of(evt.Terms, evt.EventId);

                // Register first, then look for a sealed copy: the sealer removes a registration only after the event's
                // index row is written, so between the two steps an event cannot slip through unseen, and a pending
                // registration always means "not sealed yet" (which spares the sealer a lookup per event).
                var candidate = PendingEvent.Of(new EventRecord(evt.EventId, evt.EventHash, captureId, partner, receivedAt, evt.Json, signature), partitionKey,
                    SupplyPartitionKey.LogPartition(partitionKey, options.Partitions));
                if (!pending.TryAdd(candidate, out var existing))
                {
                    // Accepted already (by this partner or another, in this or another serialisation): the first stays.
                    registeredElsewhere.Add(existing);
                    continue;
                }

                // The filter answers "certainly not sealed" for new events without a read.
                registering = candidate;
                if (checkSealed && sealedEvents.MightContain(key) && await reader.FindSealedAsync(key, cancellationToken).ConfigureAwait(false) is not null)
                {
                    pending.Remove(candidate);
                    registering = null;
                    continue;
                }

                registering = null;
                registered.Add(candidate);
                registeredTerms.Add((evt.Index, evt.EventId, evt.Terms));
            }
        }
        catch
        {
            // The caller went away (or the store failed) during a lookup: nothing of this document is accepted, so no
            // registration of it may stay behind. A stale one would count as backlog for good, and a later capture of
            // the same event would wait for its append, which never comes.
            Unregister(pending, registering is null ? registered : [.. registered, registering]);
            throw;
        }

        ConsistencyOutcome consistent;
        try
        {
            consistent = await consistency.CheckAndClaimAsync(captureId, partner, registeredTerms, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Unregister(registered);
            throw;
        }

        // A capture the partner may not make (an ownership move away from a holder it does not speak for) is answered
        // 403 before any conflict with the record: the conflicts would only tell it more of someone else's goods.
        var forbidden = consistent.Conflicts.Any(c => c.Conflict.Forbidden);
        foreach (var (index, conflict) in consistent.Conflicts.Where(c => c.Conflict.Forbidden == forbidden))
        {
            var evt = read.Events[index];
            problems.Add(new EpcisProblem(index, evt.Pointer + (conflict.Member ?? PointerOf(evt, conflict.Epc)), conflict.Detail));
        }

        if (problems.Count > 0)
        {
            Unregister(registered);
            throw forbidden
                ? Refusal(RefusalKind.Forbidden, "Not permitted", problems)
                : Refusal(RefusalKind.Conflict, consistent.Conflicts.Any(c => c.Conflict.Member is not null) ? "Inconsistent with recorded events" : "Physically inconsistent with recorded events", problems);
        }

        // The claims must outlive the append (PhysicalConsistency.ClaimLease): after slow store writes, refuse instead.
        if (consistency.IsTooOldToPublish(consistent.Claims))
        {
            await ReleaseClaimsAsync(consistent.Claims).ConfigureAwait(false);
            Unregister(registered);
            throw Refusal(RefusalKind.Busy, "Capture too slow", [new EpcisProblem(null, string.Empty,
                "Checking this document's identifiers took too long for it to be accepted safely. Nothing of this document was accepted; send it again.")]);
        }

        // From here on the work runs to its end even if the caller goes away: every step is idempotent, and stopping
        // half-way would only leave events in the log without their capture record.
        try
        {
            await publisher.PublishAsync(registered, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var evt in registered)
            {
                evt.MarkFailed(ex);
            }

            await ReleaseClaimsAsync(consistent.Claims).ConfigureAwait(false);
            Unregister(registered);
            throw;
        }

        foreach (var evt in registered)
        {
            evt.MarkAppended();
        }

        // The events are durable: so are their claims, whatever the lease (PhysicalConsistency.MarkDurableAsync).
        await consistency.MarkDurableAsync(consistent.Claims, CancellationToken.None).ConfigureAwait(false);

        // Events another capture is appending: acknowledge them only once they are durable.
        try
        {
            await Task.WhenAll(registeredElsewhere.Select(e => e.Appended)).ConfigureAwait(false);
        }
        catch (Exception) when (registeredElsewhere.Any(e => e.Appended.IsFaulted))
        {
            // That capture was refused or abandoned before its append: those events are not accepted by anyone. This
            // document's own new events are durable already; a retry registers the rest.
            throw Refusal(RefusalKind.Busy, "Capture interrupted", [new EpcisProblem(null, string.Empty,
                "Some events of this document were being accepted by another capture that did not complete. Send the document again (a repeated capture is idempotent).")]);
        }
        // The header's master data, once the events are accepted and before the capture is recorded: a retry of the same
        // document (answered from the record) finds it stored, and a refused document leaves none behind.
        await _masterData.StoreAsync(caller, read.MasterData, CancellationToken.None).ConfigureAwait(false);
        var eventIds = read.Events.Select(e => e.EventId).Distinct(StringComparer.Ordinal).ToList();
        await RecordCaptureAsync(captureId, partner, receivedAt, eventIds, signature, CancellationToken.None).ConfigureAwait(false);
        return new CaptureAccepted(captureId, eventIds, registered.Count, Repeated: false);
    }

    private async Task RecordCaptureAsync(string captureId, string partner, DateTimeOffset receivedAt, List<string> eventIds, SignedCapture? signature, CancellationToken cancellationToken)
    {
        var summary = new Dictionary<string, object>
        {
            ["Partner"] = partner,
            ["ReceivedAt"] = receivedAt,
            ["EventCount"] = eventIds.Count,
        };
        if (signature is not null)
        {
            ChainReader.WriteSignature(summary, signature);
        }

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpsertReplace, new TableEntity(captureId, SupplyTables.CaptureSummaryRow, summary)) };

        // The event ids, one per line, in rows ids-0000, ids-0001, … of the capture's partition.
        actions.AddRange(LongText.Rows(captureId, SupplyTables.CaptureIdsRowPrefix, "EventIds", string.Concat(eventIds.Select(id => id + "\n")))
            .Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));
        await TableTransactions.SubmitAsync(tables.Captures, actions, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the registrations of a capture that accepts nothing after all; another capture waiting for one of
    /// them (the same event, sent twice at once) is told it will not be appended.</summary>
    private static void Unregister(PendingEvents pending, IEnumerable<PendingEvent> registered)
    {
        var abandoned = new OperationCanceledException("The capture that registered this event accepted nothing.");
        foreach (var evt in registered)
        {
            pending.Remove(evt);
            evt.MarkFailed(abandoned);
        }
    }

    private void Unregister(List<PendingEvent> registered) => Unregister(pending, registered);

    /// <summary>
    /// Refuses (403) a document that commissions an identifier under a company prefix the caller neither owns nor was
    /// granted, or that declares erroneous an event another partner captured without the committee's approval: a
    /// partner may correct only its own record, or a rival could void a genuine commissioning and then clone the chip.
    /// </summary>
    private async Task CheckRightsAsync(Caller caller, IReadOnlyList<CapturedEvent> events, CancellationToken cancellationToken)
    {
        var problems = new List<EpcisProblem>();
        foreach (var evt in events)
        {
            foreach (var commissioned in CommissionRights.Commissioned(evt))
            {
                if (CommissionRights.May(caller, commissioned.Identifier)
                    || (commissioned.OnlyIfNew && (await terms.FindEpcAsync(commissioned.Identifier, cancellationToken).ConfigureAwait(false)).Count > 0))
                {
                    continue;
                }

                problems.Add(new EpcisProblem(evt.Index, evt.Pointer + commissioned.Pointer,
                    $"'{commissioned.Identifier}' is under a company prefix that partner '{caller.PartnerId}' neither owns nor was granted: only the prefix's owner, or a partner it granted, may commission it."));
            }

            if (evt.Terms.IsErrorDeclaration && !IsErrorDeclarationApproved(evt.HashId)
                && await CapturerOfAsync(evt.HashId, cancellationToken).ConfigureAwait(false) is { } capturer
                && !string.Equals(capturer, caller.PartnerId, StringComparison.Ordinal))
            {
                problems.Add(new EpcisProblem(evt.Index, evt.Pointer + "/errorDeclaration",
                    $"Event {evt.HashId} was captured by another partner: only that partner may declare it erroneous, or the committee by a declare-error proposal."));
            }
        }

        if (problems.Count > 0)
        {
            throw Refusal(RefusalKind.Forbidden, "Not permitted", problems);
        }
    }

    /// <summary>The partner recorded as having captured the event (pending or sealed), or null when it is unknown here.</summary>
    private async Task<string?> CapturerOfAsync(string eventId, CancellationToken cancellationToken) =>
        pending.TryGet(eventId, out var waiting) ? waiting.Partner
        : (await reader.GetEventAsync(eventId, cancellationToken).ConfigureAwait(false))?.Partner;

    /// <summary>Releases the claims of a capture that accepts nothing after all. A store failure here is not the
    /// caller's answer (the refusal or the append's fault is): the claims stay pending and lapse after the lease.</summary>
    private async Task ReleaseClaimsAsync(ConsistencyClaims claims)
    {
        try
        {
            await consistency.ReleaseAsync(claims, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TableStoreException)
        {
        }
    }

    /// <summary>The JSON Pointer (within the event) of the first member that names the identifier.</summary>
    private static string PointerOf(CapturedEvent evt, string canonicalEpc)
    {
        using var json = System.Text.Json.JsonDocument.Parse(evt.Json);
        var root = json.RootElement;
        if (root.TryGetProperty("parentID", out var parent) && parent.GetString() is { } p && EventTerms.CanonicalEpc(p) == canonicalEpc)
        {
            return "/parentID";
        }

        foreach (var list in new[] { "epcList", "childEPCs", "inputEPCList", "outputEPCList" })
        {
            if (root.TryGetProperty(list, out var items) && items.ValueKind == System.Text.Json.JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    if (item.GetString() is { } id && EventTerms.CanonicalEpc(id) == canonicalEpc)
                    {
                        return $"/{list}/{i}";
                    }

                    i++;
                }
            }
        }

        return string.Empty;
    }

    /// <summary>The capture id: the same partner sending the same bytes gets the same id, so a retry is idempotent.</summary>
    public static string CaptureIdOf(string partner, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(partner));
        hash.AppendData([0]);
        hash.AppendData(body);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    /// <summary>A refused document: its first problem names the field and says why; every problem is listed.</summary>
    private static Refused Refusal(RefusalKind kind, string title, IReadOnlyList<EpcisProblem> problems)
    {
        var first = problems[0];
        var where = first.EventIndex is int i ? $"event {i}, " : string.Empty;
        var pointer = first.Pointer.Length > 0 ? first.Pointer : "document";
        return new Refused(kind, first.Pointer.Length > 0 ? first.Pointer : "body", $"{where}{pointer}: {first.Detail}", title,
            problems.Select(p => new RefusedMember(p.EventIndex, p.Pointer, p.Detail)).ToList());
    }
}
