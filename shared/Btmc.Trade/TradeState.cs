using Btmc.Ledger;

namespace Btmc.Trade;

/// <summary>Where a trade record is sealed: the trade chain's block height and leaf index.</summary>
public sealed record TradePosition(long Height, long LeafIndex);

/// <summary>A sealed trade record, its stored bytes (what the leaf hashes) and where it is.</summary>
public sealed record SealedTradeRecord(TradeRecord Record, ReadOnlyMemory<byte> Bytes, TradePosition Position)
{
    public Hash32 Sha256 { get; } = Hash32.Compute(Bytes.Span);
}

/// <summary>
/// A receivable as the trade chain says it is now: the offer, the one financing granted (if any), the repayments and
/// the release. Open while not financed; financed until released; released for good (a receivable is financed once).
/// </summary>
public sealed record ReceivableState(ReceivableRecord Offer, FinancingRecord? Financing, IReadOnlyList<RepaymentRecord> Repayments, ReleaseRecord? Release)
{
    public decimal Repaid => Repayments.Sum(r => r.Amount);

    public string Status => Release is not null ? "released" : Financing is not null ? "financed" : "offered";

    public bool IsParty(string partner) =>
        partner == Offer.Seller || partner == Offer.Buyer || partner == Financing?.Financier;
}

/// <summary>
/// The trade chain replayed (docs/trade.md): every record, the documents' business transactions, the receivables and
/// the fingerprints that catch an invoice offered twice. Pure: <see cref="Check"/> says whether a record may be sealed
/// next (throwing <see cref="Refused"/>), <see cref="Apply"/> adds a sealed one. The trade ledger checks each block's
/// records against the state at its height, and a block that committed first makes the others check again, so every
/// instance replaying the chain reaches the same state: the first valid financing request in ledger order is the grant.
/// </summary>
public sealed class TradeState
{
    private readonly Dictionary<string, SealedTradeRecord> _records;
    private readonly Dictionary<string, string> _bizTransactions;
    private readonly Dictionary<string, ReceivableState> _receivables;
    private readonly Dictionary<string, string> _offeredInvoices;
    private readonly Dictionary<string, string> _fingerprints;

    /// <summary>The despatch advices and invoices of each order, in ledger order (arrays replaced, never changed, so a clone may share them).</summary>
    private readonly Dictionary<string, string[]> _byOrder;

    public TradeState()
        : this(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal))
    {
    }

    private TradeState(Dictionary<string, SealedTradeRecord> records, Dictionary<string, string> bizTransactions, Dictionary<string, ReceivableState> receivables,
        Dictionary<string, string> offeredInvoices, Dictionary<string, string> fingerprints, Dictionary<string, string[]> byOrder)
    {
        _records = records;
        _bizTransactions = bizTransactions;
        _receivables = receivables;
        _offeredInvoices = offeredInvoices;
        _fingerprints = fingerprints;
        _byOrder = byOrder;
    }

    public IReadOnlyDictionary<string, SealedTradeRecord> Records => _records;

    public IReadOnlyDictionary<string, ReceivableState> Receivables => _receivables;

    /// <summary>A copy to check a block's records against before it is committed (records themselves are immutable).</summary>
    public TradeState Clone() => new(new(_records, StringComparer.Ordinal), new(_bizTransactions, StringComparer.Ordinal),
        new(_receivables, StringComparer.Ordinal), new(_offeredInvoices, StringComparer.Ordinal), new(_fingerprints, StringComparer.Ordinal), new(_byOrder, StringComparer.Ordinal));

    public T? Find<T>(string id)
        where T : TradeRecord => _records.TryGetValue(id, out var sealedRecord) ? sealedRecord.Record as T : null;

    /// <summary>The receivable an invoice is offered as, if any.</summary>
    public ReceivableState? ReceivableOfInvoice(string invoiceId) =>
        _offeredInvoices.TryGetValue(invoiceId, out var receivable) ? _receivables[receivable] : null;

    /// <summary>The document a business transaction URI names, if any.</summary>
    public TradeDocument? DocumentOf(string bizTransaction) =>
        _bizTransactions.TryGetValue(bizTransaction, out var id) ? Find<TradeDocument>(id) : null;

    /// <summary>The invoices of an order, and the despatch advices, in ledger order.</summary>
    public IEnumerable<T> OfOrder<T>(string orderId)
        where T : TradeDocument =>
        _byOrder.TryGetValue(orderId, out var ids) ? ids.Select(id => _records[id].Record).OfType<T>() : [];

    /// <summary>The buyer's acknowledgement of an invoice, if sealed.</summary>
    public AcknowledgementRecord? AcknowledgementOf(string invoiceId) =>
        Find<AcknowledgementRecord>(TradeRecord.AcknowledgementId(invoiceId));

    /// <summary>
    /// The duplicate check's key: the same seller, buyer, invoice number and amount (and currency) is the same
    /// receivable. The number is compared by its letters and digits only, case-blind ("INV-001", "inv 001"), and the
    /// amount by value (12.5 and 12.50), so that an invoice recorded again under a respelled number is still caught.
    /// </summary>
    public static string Fingerprint(string seller, string buyer, string invoiceNumber, decimal amount, string currency) =>
        string.Join('\n', seller, buyer, string.Concat(invoiceNumber.Where(char.IsAsciiLetterOrDigit).Select(char.ToUpperInvariant)),
            amount.ToString("0.############################", System.Globalization.CultureInfo.InvariantCulture), currency);

    /// <summary>The receivable already offered with this fingerprint, if any.</summary>
    public ReceivableState? ReceivableOfFingerprint(string fingerprint) =>
        _fingerprints.TryGetValue(fingerprint, out var receivable) ? _receivables[receivable] : null;

    /// <summary>Refuses a record that may not be sealed next; the caller-facing wording of conflicts that name a holder
    /// is the trade service's (it knows who asks).</summary>
    /// <exception cref="Refused">The record breaks a rule of docs/trade.md.</exception>
    public void Check(TradeRecord record)
    {
        switch (record)
        {
            case TradeDocument document:
                CheckDocument(document);
                break;
            case AcknowledgementRecord ack:
                if (Find<InvoiceRecord>(ack.Invoice) is not { } acknowledged)
                {
                    throw Refused.Invalid("invoice", $"No invoice {ack.Invoice} is recorded.");
                }

                if (acknowledged.Buyer != ack.Buyer)
                {
                    throw Refused.Forbidden("invoice", $"Only the invoice's buyer, {acknowledged.Buyer}, acknowledges it.");
                }

                break;
            case ReceivableRecord offer:
                CheckOffer(offer);
                break;
            case FinancingRecord financing:
                var state = Receivable(financing.Receivable);
                if (state.Financing is { } granted)
                {
                    throw Refused.Conflict("receivable", $"Receivable {financing.Receivable} is financed already, by {granted.Financier}.");
                }

                if (state.Offer.RequireAcknowledgement && AcknowledgementOf(state.Offer.Invoice) is null)
                {
                    throw Refused.Conflict("receivable", $"Receivable {financing.Receivable} is offered on the condition that its buyer, {state.Offer.Buyer}, acknowledges invoice {state.Offer.Invoice} first, and it has not.");
                }

                break;
            case RepaymentRecord repayment:
                var repaid = Receivable(repayment.Receivable);
                if (repaid.Financing is null || repaid.Release is not null)
                {
                    throw Refused.Conflict("receivable", $"Receivable {repayment.Receivable} is {repaid.Status}: only a financed receivable is repaid.");
                }

                if (repayment.Currency != repaid.Offer.Currency)
                {
                    throw Refused.Invalid("currency", $"Receivable {repayment.Receivable} is in {repaid.Offer.Currency}, not {repayment.Currency}.");
                }

                if (repayment.Amount <= 0)
                {
                    throw Refused.Invalid("amount", "A repayment is a positive amount.");
                }

                break;
            case ReleaseRecord release:
                var released = Receivable(release.Receivable);
                if (released.Financing is null || released.Release is not null)
                {
                    throw Refused.Conflict("receivable", $"Receivable {release.Receivable} is {released.Status}: only a financed receivable is released.");
                }

                break;
        }

        if (_records.ContainsKey(record.Id))
        {
            throw Refused.Conflict("id", $"{record.Id} is recorded already, with other content.");
        }
    }

    /// <summary>Adds a sealed record. Records are checked before they are sealed, so one that does not apply here means
    /// the trade chain was not written by this ledger's rules.</summary>
    /// <exception cref="InvalidOperationException">The record does not apply.</exception>
    public void Apply(TradeRecord record, ReadOnlyMemory<byte> bytes, TradePosition position)
    {
        try
        {
            Check(record);
        }
        catch (Refused ex)
        {
            throw new InvalidOperationException($"Trade record {record.Id} at block {position.Height} leaf {position.LeafIndex} does not apply: {ex.Message}", ex);
        }

        _records[record.Id] = new SealedTradeRecord(record, bytes, position);
        switch (record)
        {
            case TradeDocument document:
                _bizTransactions[document.BizTransaction] = document.Id;
                if (OrderOf(document) is { } order)
                {
                    _byOrder[order] = _byOrder.TryGetValue(order, out var ids) ? [.. ids, document.Id] : [document.Id];
                }

                break;
            case ReceivableRecord offer:
                _receivables[offer.Receivable] = new ReceivableState(offer, null, [], null);
                _offeredInvoices[offer.Invoice] = offer.Receivable;
                _fingerprints[Fingerprint(offer.Seller, offer.Buyer, offer.InvoiceNumber, offer.Amount, offer.Currency)] = offer.Receivable;
                break;
            case FinancingRecord financing:
                _receivables[financing.Receivable] = _receivables[financing.Receivable] with { Financing = financing };
                break;
            case RepaymentRecord repayment:
                var state = _receivables[repayment.Receivable];
                _receivables[repayment.Receivable] = state with { Repayments = [.. state.Repayments, repayment] };
                break;
            case ReleaseRecord release:
                _receivables[release.Receivable] = _receivables[release.Receivable] with { Release = release };
                break;
        }
    }

    private ReceivableState Receivable(string id) =>
        _receivables.TryGetValue(id, out var state) ? state : throw Refused.Invalid("receivable", $"No receivable {id} is offered.");

    private void CheckDocument(TradeDocument document)
    {
        if (_bizTransactions.TryGetValue(document.BizTransaction, out var other))
        {
            throw Refused.Conflict("bizTransaction", $"Business transaction {document.BizTransaction} names {other} already: each document has its own.");
        }

        if (document is OrderRecord)
        {
            return;
        }

        var orderId = OrderOf(document)!;
        if (Find<OrderRecord>(orderId) is not { } order)
        {
            throw Refused.Invalid("order", $"No order {orderId} is recorded.");
        }

        if (order.Buyer != document.Buyer || order.Seller != document.Seller)
        {
            throw Refused.Invalid("order", $"Order {orderId} is between buyer {order.Buyer} and seller {order.Seller}, not {document.Buyer} and {document.Seller}.");
        }

        if (document is InvoiceRecord invoice && invoice.Currency != order.Currency)
        {
            throw Refused.Invalid("currency", $"Order {orderId} is in {order.Currency}, not {invoice.Currency}.");
        }

        // Goods are despatched, and invoiced, at most as ordered: over-invoicing is how a receivable is inflated.
        var earlier = document is InvoiceRecord ? OfOrder<InvoiceRecord>(orderId).Cast<TradeDocument>() : OfOrder<DespatchRecord>(orderId);
        for (var i = 0; i < document.Lines.Count; i++)
        {
            var line = document.Lines[i];
            var ordered = order.Lines.Where(l => l.Gtin == line.Gtin).Sum(l => l.Quantity);
            if (ordered == 0)
            {
                throw Refused.Invalid($"lines/{i}/gtin", $"GTIN {line.Gtin} is not on order {orderId}.");
            }

            var before = earlier.SelectMany(d => d.Lines).Where(l => l.Gtin == line.Gtin).Sum(l => l.Quantity);
            var what = document is InvoiceRecord ? "invoiced" : "despatched";
            if (before + line.Quantity > ordered)
            {
                throw Refused.Conflict($"lines/{i}/quantity", $"Order {orderId} has {ordered} of GTIN {line.Gtin}; {before} are {what} already, so {line.Quantity} more are too many.");
            }
        }
    }

    private void CheckOffer(ReceivableRecord offer)
    {
        if (Find<InvoiceRecord>(offer.Invoice) is not { } invoice)
        {
            throw Refused.Invalid("invoice", $"No invoice {offer.Invoice} is recorded.");
        }

        if (invoice.Seller != offer.Seller)
        {
            throw Refused.Forbidden("invoice", $"Only the invoice's seller, {invoice.Seller}, offers it.");
        }

        if (_receivables.ContainsKey(offer.Receivable))
        {
            throw Refused.Conflict("id", $"Receivable id {offer.Receivable} is taken.");
        }

        if (ReceivableOfInvoice(offer.Invoice) is { } offered)
        {
            throw Refused.Conflict("invoice", $"Invoice {offer.Invoice} is offered already, as receivable {offered.Offer.Receivable} ({offered.Status}).");
        }

        if (ReceivableOfFingerprint(Fingerprint(offer.Seller, offer.Buyer, offer.InvoiceNumber, offer.Amount, offer.Currency)) is { } same)
        {
            throw Refused.Conflict("invoice", $"Receivable {same.Offer.Receivable} is the same invoice (seller {offer.Seller}, buyer {offer.Buyer}, number {offer.InvoiceNumber}, {offer.Amount} {offer.Currency}), {same.Status}.");
        }
    }

    private static string? OrderOf(TradeDocument document) => document switch
    {
        DespatchRecord d => d.Order,
        InvoiceRecord i => i.Order,
        _ => null,
    };
}
