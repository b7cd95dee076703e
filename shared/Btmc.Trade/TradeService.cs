using Btmc.Chains;
using Btmc.Ledger;
using Btmc.Supply;

namespace Btmc.Trade;

/// <summary>What the trade capability needs to know of the partner registry: who is registered (with roles and
/// prefixes, to resolve EPCIS parties) and each partner's registered signing key.</summary>
public sealed record TradeDirectory(Func<IReadOnlyCollection<Caller>> Partners, Func<string, EcPublicJwk?> SigningKeyOf)
{
    public Caller? Find(string partnerId) => Partners().FirstOrDefault(p => p.PartnerId == partnerId);
}

/// <summary>A trade record as answered: the record, where it is sealed, and whether this request sealed it.</summary>
public sealed record TradeRecordView(string Id, TradeRecord Record, LedgerPosition Position, bool Created, InvoiceBacking? Backing = null, ReceivableView? Receivable = null);

/// <summary>A receivable as its parties see it; <see cref="Holder"/> is null for callers that are not parties.</summary>
public sealed record ReceivableView(string Id, string Status, string Invoice, string Seller, string Buyer, decimal Amount, string Currency, bool RequireAcknowledgement, bool Acknowledged, string? Holder, decimal Repaid, bool Backed);

/// <summary>
/// Chip trade and receivables finance (docs/trade.md): the requests partners make, checked against who asks, turned
/// into trade records and sealed on the trade chain before they are answered; and what each caller may read.
/// </summary>
public sealed class TradeService(TradeLedger ledger, SupplyBackend supply, TradeDirectory directory)
{
    public TradeLedger Ledger => ledger;

    public TradeBacking Backing { get; } = new(supply);

    public async Task<TradeRecordView> RecordOrderAsync(Caller caller, OrderRequest request, CancellationToken cancellationToken = default)
    {
        // What the request names was perhaps sealed by another instance: read the chain's end first.
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        RequireRole(caller, PartnerRoles.Partner, "record trade documents");
        var number = TradeFields.Name(request.Number, "number");
        var buyer = Registered(request.Buyer, "buyer");
        var seller = Registered(request.Seller, "seller");
        if (buyer == seller)
        {
            throw Refused.Invalid("seller", "An order's buyer and seller are two partners.");
        }

        if (caller.PartnerId != buyer && caller.PartnerId != seller)
        {
            throw Refused.Forbidden("buyer", $"Partner {caller.PartnerId} is neither the order's buyer nor its seller: only they record it.");
        }

        var lines = TradeFields.Lines(request.Lines);
        var id = TradeRecord.OrderId(buyer, number);
        var order = new OrderRecord(number, buyer, seller, lines, TradeFields.Currency(request.Currency), lines.Sum(l => l.Amount),
            TradeFields.BizTransaction(request.BizTransaction, id), caller.PartnerId);
        return await SealOnceAsync(order, caller, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TradeRecordView> RecordDespatchAsync(Caller caller, SellerDocumentRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        var (order, number, lines) = SellerDocument(caller, request, "despatch advices");
        var id = TradeRecord.DespatchId(order.Seller, number);
        var despatch = new DespatchRecord(number, order.Buyer, order.Seller, order.Id, lines, TradeFields.BizTransaction(request.BizTransaction, id), caller.PartnerId);
        return await SealOnceAsync(despatch, caller, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TradeRecordView> RecordInvoiceAsync(Caller caller, SellerDocumentRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        var (order, number, lines) = SellerDocument(caller, request, "invoices");
        if (request.DueDate is not { } due)
        {
            throw Refused.Invalid("dueDate", "An invoice has a due date (yyyy-MM-dd).");
        }

        var id = TradeRecord.InvoiceId(order.Seller, number);
        var invoice = new InvoiceRecord(number, order.Buyer, order.Seller, order.Id, lines, order.Currency, lines.Sum(l => l.Amount), due,
            TradeFields.BizTransaction(request.BizTransaction, id), caller.PartnerId);
        return await SealOnceAsync(invoice, caller, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The buyer acknowledges an invoice: its detached JWS over the invoice record's stored bytes must verify with the
    /// buyer's registered signing key (docs/partners.md, "Signed captures"), which the record keeps beside it.
    /// </summary>
    public async Task<TradeRecordView> AcknowledgeAsync(Caller caller, AcknowledgementRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        RequireRole(caller, PartnerRoles.Partner, "acknowledge invoices");
        var invoice = Visible<InvoiceRecord>(caller, request.Invoice, "invoice", "trade:invoice:{seller}:{number}");
        var invoiceId = invoice.Id;
        var sealedInvoice = ledger.State.Records[invoiceId];
        if (invoice.Buyer != caller.PartnerId)
        {
            throw Refused.Forbidden("invoice", $"Only the invoice's buyer, {invoice.Buyer}, acknowledges it.");
        }

        var key = directory.SigningKeyOf(caller.PartnerId)
            ?? throw Refused.Invalid("signature", $"Partner {caller.PartnerId} has no registered signing key to acknowledge with (docs/partners.md, \"Signed captures\").");
        if (!DetachedJws.Verify(request.Signature, sealedInvoice.Bytes.Span, key, out var failure))
        {
            throw Refused.Invalid("signature", $"The acknowledgement does not verify over invoice {invoiceId} as sealed with partner {caller.PartnerId}'s registered signing key: {failure}");
        }

        var ack = new AcknowledgementRecord(invoiceId, sealedInvoice.Sha256.ToHex(), caller.PartnerId, request.Signature!, key with { Kid = null });
        return await SealOnceAsync(ack, caller, cancellationToken, sameWhen: existing => existing is AcknowledgementRecord).ConfigureAwait(false);
    }

    /// <summary>The seller offers an invoice for finance under its own receivable id.</summary>
    public async Task<TradeRecordView> OfferAsync(Caller caller, OfferRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        RequireRole(caller, PartnerRoles.Partner, "offer receivables");
        var receivable = TradeFields.Name(request.Id, "id");
        var invoice = Visible<InvoiceRecord>(caller, request.Invoice, "invoice", "trade:invoice:{seller}:{number}");

        if (invoice.Seller != caller.PartnerId)
        {
            throw Refused.Forbidden("invoice", $"Only the invoice's seller, {invoice.Seller}, offers it.");
        }

        var offer = new ReceivableRecord(receivable, invoice.Id, invoice.Seller, invoice.Buyer, invoice.Number, invoice.Amount, invoice.Currency, request.RequireAcknowledgement);
        return await SealOnceAsync(offer, caller, cancellationToken, check: state => CheckOffer(state, offer, caller)).ConfigureAwait(false);
    }

    /// <summary>
    /// A financier asks to finance a receivable. The grant is the first valid request in ledger order
    /// (<see cref="TradeLedger"/>): a request checked against a state in which another financier holds the receivable
    /// is refused (409), naming the holder only to the receivable's parties. The holder asking again gets its grant.
    /// </summary>
    public async Task<TradeRecordView> FinanceAsync(Caller caller, string receivableId, FinancingRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        RequireRole(caller, PartnerRoles.Financier, "finance receivables");
        // Any financier learns that a receivable it names is financed (409), not by whom: a 404 would tell it nothing
        // more, and the refusal is what the standard asks of a second financing.
        if (!ledger.State.Receivables.ContainsKey(receivableId))
        {
            throw NoReceivable(caller, receivableId);
        }

        var commit = await ledger.SubmitAsync(state =>
        {
            var current = state.Receivables[receivableId];
            if (current.Financing is { } granted)
            {
                if (granted.Financier == caller.PartnerId)
                {
                    return [];
                }

                throw Refused.Conflict("receivable", current.IsParty(caller.PartnerId) || caller.SeesEverything
                    ? $"Receivable {receivableId} is financed already, by {granted.Financier} (sealed at trade block {state.Records[granted.Id].Position.Height}); a receivable is financed once."
                    : $"Receivable {receivableId} is financed already, by another financier; a receivable is financed once.");
            }

            if (request.RequireAcknowledgement && state.AcknowledgementOf(current.Offer.Invoice) is null)
            {
                throw Refused.Conflict("requireAcknowledgement", $"Invoice {current.Offer.Invoice} is not acknowledged by its buyer, {current.Offer.Buyer}, and this request requires it.");
            }

            return [new FinancingRecord(receivableId, caller.PartnerId, current.Offer.Amount, current.Offer.Currency)];
        }, cancellationToken).ConfigureAwait(false);
        return await ViewOfAsync(caller, commit, new FinancingRecord(receivableId, caller.PartnerId, 0, string.Empty).Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The holder or the buyer records a payment towards a financed receivable; when the payments reach the financed
    /// amount, the same block releases it. The payment reference makes a retry idempotent.
    /// </summary>
    public async Task<TradeRecordView> RepayAsync(Caller caller, string receivableId, RepaymentRequest request, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        if (ReadableReceivable(caller, receivableId) is not { } seen)
        {
            throw NoReceivable(caller, receivableId);
        }

        if (caller.PartnerId != seen.Offer.Buyer && caller.PartnerId != seen.Financing?.Financier)
        {
            throw Refused.Forbidden("receivable", $"Only receivable {receivableId}'s buyer or the financier holding it records repayments.");
        }

        var reference = TradeFields.Name(request.Reference, "reference");
        var amount = TradeFields.Amount(request.Amount, "amount");
        var repayment = new RepaymentRecord(receivableId, reference, amount, seen.Offer.Currency, caller.PartnerId);
        var commit = await ledger.SubmitAsync(state =>
        {
            if (state.Records.GetValueOrDefault(repayment.Id) is { } existing)
            {
                return existing.Bytes.Span.SequenceEqual(repayment.ToJson()) ? [] : throw Refused.Conflict("reference", $"Payment {reference} is recorded already, with another amount or by another partner.");
            }

            var current = state.Receivables[receivableId];
            if (current.Financing is not { } financing || current.Release is not null)
            {
                throw Refused.Conflict("receivable", $"Receivable {receivableId} is {current.Status}: only a financed receivable is repaid.");
            }

            var repaid = current.Repaid + amount;
            return repaid >= financing.Amount
                ? [repayment, new ReleaseRecord(receivableId, financing.Financier, repaid, financing.Currency)]
                : [repayment];
        }, cancellationToken).ConfigureAwait(false);
        return await ViewOfAsync(caller, commit, repayment.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A record as <paramref name="caller"/> may see it, with an invoice's backing and a receivable's state; null when there is none it may see.</summary>
    public async Task<TradeRecordView?> GetAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        if (ledger.State.Records.GetValueOrDefault(id) is not { } found || !MaySee(caller, found.Record))
        {
            return null;
        }

        return await ViewAsync(caller, found, created: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The receivables <paramref name="caller"/> may see, optionally of one status, in ledger order.</summary>
    public async Task<IReadOnlyList<ReceivableView>> ListReceivablesAsync(Caller caller, string? status, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        var state = ledger.State;
        var views = new List<ReceivableView>();
        foreach (var receivable in state.Receivables.Values.OrderBy(r => state.Records[r.Offer.Id].Position.Height).ThenBy(r => state.Records[r.Offer.Id].Position.LeafIndex))
        {
            if ((status is null || receivable.Status == status) && MaySee(caller, receivable))
            {
                views.Add(await ReceivableViewAsync(caller, receivable, cancellationToken).ConfigureAwait(false));
            }
        }

        return views;
    }

    /// <summary>The state of a receivable <paramref name="caller"/> may see, or null.</summary>
    public async Task<ReceivableView?> GetReceivableAsync(Caller caller, string receivableId, CancellationToken cancellationToken = default)
    {
        await ledger.SyncAsync(cancellationToken).ConfigureAwait(false);
        return ReadableReceivable(caller, receivableId) is { } receivable ? await ReceivableViewAsync(caller, receivable, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>The receivable as <paramref name="caller"/> may see it, or null (as 404: it does not say whether one exists).</summary>
    public ReceivableState? ReadableReceivable(Caller caller, string receivableId) =>
        ledger.State.Receivables.GetValueOrDefault(receivableId) is { } receivable && MaySee(caller, receivable) ? receivable : null;

    /// <summary>
    /// Who may read a trade record (docs/trade.md, "Who sees what"): auditors and operators every one; a document's
    /// buyer and seller their documents; a receivable's parties (seller, buyer, the financier holding it) its records
    /// and documents; and, while it is offered and not financed, every financier, because offering an invoice for
    /// finance discloses it, its order and its despatch advices to the financiers asked to fund it.
    /// </summary>
    public bool MaySee(Caller caller, TradeRecord record)
    {
        if (caller.SeesEverything)
        {
            return true;
        }

        var state = ledger.State;
        switch (record)
        {
            case TradeDocument document:
                if (caller.PartnerId == document.Buyer || caller.PartnerId == document.Seller)
                {
                    return true;
                }

                var invoices = document switch
                {
                    InvoiceRecord invoice => [invoice.Id],
                    OrderRecord order => state.OfOrder<InvoiceRecord>(order.Id).Select(i => i.Id).ToList(),
                    DespatchRecord despatch => state.OfOrder<InvoiceRecord>(despatch.Order).Select(i => i.Id).ToList(),
                    _ => [],
                };
                return invoices.Any(i => state.ReceivableOfInvoice(i) is { } r && MaySee(caller, r));
            case AcknowledgementRecord ack:
                return state.Find<InvoiceRecord>(ack.Invoice) is { } acknowledged && MaySee(caller, acknowledged);
            case ReceivableRecord offer:
                return MaySee(caller, state.Receivables[offer.Receivable]);
            case FinancingRecord financing:
                return MaySee(caller, state.Receivables[financing.Receivable]);
            case RepaymentRecord repayment:
                return state.Receivables[repayment.Receivable].IsParty(caller.PartnerId);
            case ReleaseRecord release:
                return state.Receivables[release.Receivable].IsParty(caller.PartnerId);
            default:
                return false;
        }
    }

    public bool MaySee(Caller caller, ReceivableState receivable) =>
        caller.SeesEverything || receivable.IsParty(caller.PartnerId) || (receivable.Financing is null && caller.Has(PartnerRoles.Financier));

    private async Task<ReceivableView> ReceivableViewAsync(Caller caller, ReceivableState receivable, CancellationToken cancellationToken)
    {
        var state = ledger.State;
        var invoice = state.Find<InvoiceRecord>(receivable.Offer.Invoice)!;
        var backing = await Backing.OfInvoiceAsync(state, invoice, cancellationToken).ConfigureAwait(false);
        var offer = receivable.Offer;
        return new ReceivableView(offer.Receivable, receivable.Status, offer.Invoice, offer.Seller, offer.Buyer, offer.Amount, offer.Currency, offer.RequireAcknowledgement,
            state.AcknowledgementOf(offer.Invoice) is not null,
            caller.SeesEverything || receivable.IsParty(caller.PartnerId) ? receivable.Financing?.Financier : null,
            receivable.Repaid, backing.Backed);
    }

    private async Task<TradeRecordView> ViewAsync(Caller caller, SealedTradeRecord found, bool created, CancellationToken cancellationToken)
    {
        var state = ledger.State;
        var backing = found.Record is InvoiceRecord invoice ? await Backing.OfInvoiceAsync(state, invoice, cancellationToken).ConfigureAwait(false) : null;
        var receivableId = found.Record switch
        {
            ReceivableRecord r => r.Receivable,
            FinancingRecord f => f.Receivable,
            RepaymentRecord p => p.Receivable,
            ReleaseRecord l => l.Receivable,
            InvoiceRecord i => state.ReceivableOfInvoice(i.Id)?.Offer.Receivable,
            _ => null,
        };
        var receivable = receivableId is not null && state.Receivables.GetValueOrDefault(receivableId) is { } r2 && MaySee(caller, r2)
            ? await ReceivableViewAsync(caller, r2, cancellationToken).ConfigureAwait(false)
            : null;
        return new TradeRecordView(found.Record.Id, found.Record, PositionOf(found), created, backing, receivable);
    }

    private async Task<TradeRecordView> ViewOfAsync(Caller caller, TradeCommit commit, string id, CancellationToken cancellationToken) =>
        await ViewAsync(caller, ledger.State.Records[id], commit.Records.Any(r => r.Record.Id == id), cancellationToken).ConfigureAwait(false);

    public static LedgerPosition PositionOf(SealedTradeRecord found) => new(TradeLedger.ChainId, found.Position.Height, found.Position.LeafIndex);

    /// <summary>
    /// Seals <paramref name="record"/> unless it is sealed already: the same record again (a retry) is answered with
    /// the sealed one and seals nothing; another record under its id is refused (409).
    /// </summary>
    private async Task<TradeRecordView> SealOnceAsync(TradeRecord record, Caller caller, CancellationToken cancellationToken, Func<TradeRecord, bool>? sameWhen = null, Action<TradeState>? check = null)
    {
        var json = record.ToJson();
        var commit = await ledger.SubmitAsync(state =>
        {
            if (state.Records.GetValueOrDefault(record.Id) is { } existing)
            {
                return existing.Bytes.Span.SequenceEqual(json) || (sameWhen?.Invoke(existing.Record) ?? false)
                    ? []
                    : throw Refused.Conflict(record is ReceivableRecord ? "id" : "number", $"{record.Id} is recorded already, with other content (sealed at trade block {existing.Position.Height} leaf {existing.Position.LeafIndex}).");
            }

            check?.Invoke(state);
            return [record];
        }, cancellationToken).ConfigureAwait(false);
        var found = ledger.State.Records[record.Id];
        return await ViewAsync(caller, found, commit.Records.Count > 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An offer of an invoice offered before (under this id or another) is refused naming that receivable, and
    /// its holder only to the receivable's parties; a second offer of the same invoice with respelled numbers is
    /// caught by the fingerprint (<see cref="TradeState.Fingerprint"/>).</summary>
    private void CheckOffer(TradeState state, ReceivableRecord offer, Caller caller)
    {
        var earlier = state.ReceivableOfInvoice(offer.Invoice)
            ?? state.ReceivableOfFingerprint(TradeState.Fingerprint(offer.Seller, offer.Buyer, offer.InvoiceNumber, offer.Amount, offer.Currency));
        if (earlier is not null && earlier.Offer.Receivable != offer.Receivable)
        {
            var holder = earlier.Financing is { } f && (earlier.IsParty(caller.PartnerId) || caller.SeesEverything) ? $", financed by {f.Financier}" : string.Empty;
            throw Refused.Conflict("invoice",
                $"Invoice {earlier.Offer.InvoiceNumber} of seller {offer.Seller} to buyer {offer.Buyer} for {earlier.Offer.Amount} {earlier.Offer.Currency} is offered already, as receivable {earlier.Offer.Receivable} ({earlier.Status}{holder}): an invoice is financed once.");
        }

        state.Check(offer);
    }

    private (OrderRecord Order, string Number, IReadOnlyList<TradeLine> Lines) SellerDocument(Caller caller, SellerDocumentRequest request, string what)
    {
        RequireRole(caller, PartnerRoles.Partner, "record trade documents");
        var number = TradeFields.Name(request.Number, "number");
        var order = Visible<OrderRecord>(caller, request.Order, "order", "trade:order:{buyer}:{number}");

        if (order.Seller != caller.PartnerId)
        {
            throw Refused.Forbidden("order", $"Only the order's seller, {order.Seller}, records its {what}.");
        }

        return (order, number, TradeFields.Lines(request.Lines));
    }

    /// <summary>The record a request names in <paramref name="field"/>, if the caller may see it; refused naming the field otherwise (one
    /// answer for "none" and "not yours", as for a 404).</summary>
    private T Visible<T>(Caller caller, string? id, string field, string shape)
        where T : TradeRecord
    {
        var recordId = id ?? throw Refused.Invalid(field, $"Name the {field}'s record id ({shape}).");
        return ledger.State.Find<T>(recordId) is { } found && MaySee(caller, found) ? found
            : throw Refused.Invalid(field, $"No {field} {recordId} is recorded that partner {caller.PartnerId} may see.");
    }

    private string Registered(string? partner, string field) =>
        partner is not null && directory.Find(partner) is not null ? partner
        : throw Refused.Invalid(field, $"'{partner}' is not a registered partner.");

    private static void RequireRole(Caller caller, PartnerRoles role, string what)
    {
        if (!caller.Has(role))
        {
            throw Refused.Forbidden("role", $"Partner {caller.PartnerId} lacks the {Caller.Format(role)} role, which may {what}.");
        }
    }

    private static Refused NoReceivable(Caller caller, string receivableId) =>
        new(RefusalKind.NotFound, "receivable", $"No receivable {receivableId} is offered that partner {caller.PartnerId} may see.");
}
