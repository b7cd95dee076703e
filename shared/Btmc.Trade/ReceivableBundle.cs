using System.Text.Json;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply.Access;
using Btmc.Supply.Receipts;

namespace Btmc.Trade;

/// <summary>
/// A receivable with its proofs (docs/trade.md, "Proofs"), <c>btmc-receivable/1</c>: the receivable as the caller may
/// see it, a <see cref="Receipt.RecordFormat"/> receipt of every trade record behind it (the offer, the invoice, its
/// order and despatch advices, the buyer's acknowledgement, the financing grant, repayments and release), a receipt
/// of every EPCIS event that names the documents, and the company prefixes of the partners those events' parties are
/// resolved with, so that <see cref="ReceivableVerifier"/> can check it all offline.
/// </summary>
public sealed record ReceivableBundle(string Format, ReceivableView Receivable, IReadOnlyList<Receipt> Records, IReadOnlyList<Receipt> Events, IReadOnlyList<LinkedEvent> Links, IReadOnlyDictionary<string, IReadOnlyList<string>> Parties)
{
    public const string CurrentFormat = "btmc-receivable/1";

    public string ToJson() => JsonSerializer.Serialize(this, Receipt.JsonOptions);

    public static ReceivableBundle FromJson(string json) =>
        JsonSerializer.Deserialize<ReceivableBundle>(json, Receipt.JsonOptions) ?? throw new JsonException("The receivable bundle is empty.");

    /// <summary>The bundle of a receivable <paramref name="caller"/> may see; null when it may see none by that id.</summary>
    public static async Task<ReceivableBundle?> BuildAsync(TradeService trade, ReceiptIssuer receipts, Caller caller, string receivableId, CancellationToken cancellationToken = default)
    {
        if (await trade.GetReceivableAsync(caller, receivableId, cancellationToken).ConfigureAwait(false) is not { } view)
        {
            return null;
        }

        var state = trade.Ledger.State;
        var receivable = state.Receivables[receivableId];
        var invoice = state.Find<InvoiceRecord>(receivable.Offer.Invoice)!;
        var ids = new List<string> { receivable.Offer.Id, invoice.Id, invoice.Order };
        ids.AddRange(state.OfOrder<DespatchRecord>(invoice.Order).Select(d => d.Id));
        if (state.AcknowledgementOf(invoice.Id) is { } ack)
        {
            ids.Add(ack.Id);
        }

        if (receivable.Financing is { } financing)
        {
            ids.Add(financing.Id);
        }

        ids.AddRange(receivable.Repayments.Select(r => r.Id));
        if (receivable.Release is { } release)
        {
            ids.Add(release.Id);
        }

        var records = new List<Receipt>();
        foreach (var id in ids.Where(id => trade.MaySee(caller, state.Records[id].Record)))
        {
            records.Add(await receipts.GetRecordAsync(TradeService.PositionOf(state.Records[id]), id, cancellationToken).ConfigureAwait(false));
        }

        // The events that name the documents: disclosed with the receivable to whoever may see it (docs/trade.md,
        // "Who sees what"), so that a financier can check the goods went to the buyer without trusting the seller.
        var backing = await trade.Backing.OfInvoiceAsync(state, invoice, cancellationToken).ConfigureAwait(false);
        var events = new List<Receipt>();
        foreach (var linked in backing.Events)
        {
            events.Add(await receipts.GetAsync(linked.EventId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Event {linked.EventId} names {linked.Document} but has no receipt."));
        }

        var buyer = invoice.Buyer;
        var parties = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (trade.Backing.Party(buyer) is { } registered)
        {
            parties[buyer] = registered.Prefixes.Where(p => p != Caller.AnyPrefix).ToList();
        }

        return new ReceivableBundle(CurrentFormat, view, records, events, backing.Events, parties);
    }
}

/// <summary>The outcome of checking a receivable bundle: null <see cref="Failure"/> means every check passed.</summary>
public sealed record ReceivableVerification(string? Failure, int Records, int Events, IReadOnlyCollection<string> KeyThumbprints)
{
    public bool IsValid => Failure is null;
}

/// <summary>
/// Checks a receivable bundle offline: every receipt verifies (<see cref="ReceiptVerifier"/>, optionally against a
/// trusted producer key) and is on the trade chain or a supply chain; the records agree with each other (the offer is
/// of the invoice, with its parties, number and amount; the invoice is of the order; the acknowledgement is the
/// buyer's signature over the invoice as sealed; the grant is of this receivable, sealed after the offer and, when the
/// offer requires it, after the acknowledgement; the release follows repayments of the financed amount); the stated
/// status and holder are what the records say; and each event names one of the documents' business transactions and,
/// if the bundle says the invoice is backed, one event goes to the buyer. It proves what the records say; it cannot
/// prove that no record was left out (an earlier grant, say): the trade chain's replay, or an auditor, can.
/// </summary>
public static class ReceivableVerifier
{
    public static ReceivableVerification Verify(ReceivableBundle bundle, EcPublicJwk? trustedKey = null)
    {
        try
        {
            var thumbprints = new HashSet<string>(StringComparer.Ordinal);
            var failure = Check(bundle, trustedKey, thumbprints);
            return failure is null ? new ReceivableVerification(null, bundle.Records.Count, bundle.Events.Count, thumbprints) : Fail(failure);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return Fail(ex.Message);
        }

        static ReceivableVerification Fail(string reason) => new(reason, 0, 0, []);
    }

    private static string? Check(ReceivableBundle bundle, EcPublicJwk? trustedKey, HashSet<string> thumbprints)
    {
        if (bundle.Format != ReceivableBundle.CurrentFormat)
        {
            return $"unknown receivable bundle format '{bundle.Format}' (expected {ReceivableBundle.CurrentFormat})";
        }

        // A bundle read from a file may lack members its type says are there.
        if (bundle.Receivable is null || bundle.Records is null || bundle.Events is null || bundle.Parties is null
            || bundle.Records.Any(r => r is null) || bundle.Events.Any(e => e is null))
        {
            return "the bundle lacks its receivable, records, events or parties";
        }

        var records = new Dictionary<string, (TradeRecord Record, Receipt Receipt)>(StringComparer.Ordinal);
        foreach (var receipt in bundle.Records)
        {
            var check = ReceiptVerifier.Verify(receipt, trustedKey);
            if (!check.IsValid)
            {
                return $"receipt of {receipt.EventId}: {check.Failure}";
            }

            if (receipt.Format != Receipt.RecordFormat || receipt.ChainId != TradeLedger.ChainId)
            {
                return $"receipt of {receipt.EventId} is not of a record of the {TradeLedger.ChainId} chain";
            }

            thumbprints.Add(check.KeyThumbprint!);
            records[receipt.EventId] = (TradeRecord.FromJson(Convert.FromBase64String(receipt.Record!)), receipt);
        }

        var view = bundle.Receivable;
        T? Find<T>(string id)
            where T : TradeRecord => records.TryGetValue(id, out var found) ? found.Record as T : null;
        if (Find<ReceivableRecord>(TradeRecord.ReceivableId(view.Id)) is not { } offer)
        {
            return $"no receipt of the offer of receivable {view.Id}";
        }

        if (Find<InvoiceRecord>(offer.Invoice) is not { } invoice)
        {
            return $"no receipt of invoice {offer.Invoice}";
        }

        if (offer.Seller != invoice.Seller || offer.Buyer != invoice.Buyer || offer.InvoiceNumber != invoice.Number || offer.Amount != invoice.Amount || offer.Currency != invoice.Currency)
        {
            return $"the offer of receivable {view.Id} does not state invoice {invoice.Id}'s parties, number and amount";
        }

        if (view.Invoice != invoice.Id || view.Seller != invoice.Seller || view.Buyer != invoice.Buyer || view.Amount != offer.Amount || view.Currency != offer.Currency || view.RequireAcknowledgement != offer.RequireAcknowledgement)
        {
            return "the receivable's stated invoice, parties or amount are not its offer's";
        }

        if (Find<OrderRecord>(invoice.Order) is not { } order)
        {
            return $"no receipt of order {invoice.Order}";
        }

        if (order.Buyer != invoice.Buyer || order.Seller != invoice.Seller || order.Currency != invoice.Currency)
        {
            return $"invoice {invoice.Id} is not between order {order.Id}'s buyer and seller in its currency";
        }

        var offerAt = records[offer.Id].Receipt;
        var ack = Find<AcknowledgementRecord>(TradeRecord.AcknowledgementId(invoice.Id));
        if (ack is not null)
        {
            var invoiceReceipt = records[invoice.Id].Receipt;
            if (ack.Buyer != invoice.Buyer || ack.InvoiceSha256 != invoiceReceipt.EventHash
                || !DetachedJws.Verify(ack.Signature, Convert.FromBase64String(invoiceReceipt.Record!), ack.SigningKey, out var reason))
            {
                return $"the acknowledgement is not the buyer {invoice.Buyer}'s signature over invoice {invoice.Id} as sealed";
            }
        }

        if (view.Acknowledged != (ack is not null))
        {
            return $"the receivable says it is {(view.Acknowledged ? string.Empty : "not ")}acknowledged, and the bundle {(ack is null ? "has no" : "has an")} acknowledgement";
        }

        var financing = Find<FinancingRecord>(new FinancingRecord(view.Id, string.Empty, 0, string.Empty).Id);
        var release = Find<ReleaseRecord>(new ReleaseRecord(view.Id, string.Empty, 0, string.Empty).Id);
        var repaid = records.Values.Select(r => r.Record).OfType<RepaymentRecord>().Where(r => r.Receivable == view.Id).Sum(r => r.Amount);
        var status = release is not null ? "released" : financing is not null ? "financed" : "offered";
        if (status != view.Status)
        {
            return $"the receivable is stated {view.Status}, and its records say {status}";
        }

        if (financing is not null)
        {
            if (view.Holder is not null && view.Holder != financing.Financier)
            {
                return $"the stated holder {view.Holder} is not the financier granted, {financing.Financier}";
            }

            if (financing.Amount != offer.Amount || financing.Currency != offer.Currency || !Before(offerAt, records[financing.Id].Receipt))
            {
                return "the financing grant is not of the offered amount, or not sealed after the offer";
            }

            if (offer.RequireAcknowledgement && (ack is null || !Before(records[ack.Id].Receipt, records[financing.Id].Receipt)))
            {
                return "the offer requires the buyer's acknowledgement before financing, and the grant is not after one";
            }
        }

        if (release is not null && (financing is null || release.Financier != financing.Financier || release.Repaid != repaid || repaid < financing.Amount))
        {
            return "the release does not follow repayments of the financed amount to the financier granted";
        }

        var documents = records.Values.Select(r => r.Record).OfType<TradeDocument>().Where(d => d.Id == invoice.Id || d.Id == order.Id || (d is DespatchRecord x && x.Order == order.Id))
            .ToDictionary(d => d.BizTransaction, d => d, StringComparer.Ordinal);
        var toBuyer = false;
        var parties = bundle.Parties.Select(p => new Caller(p.Key, PartnerRoles.Partner, p.Value, [])).ToList();
        foreach (var receipt in bundle.Events)
        {
            var check = ReceiptVerifier.Verify(receipt, trustedKey);
            if (!check.IsValid)
            {
                return $"receipt of event {receipt.EventId}: {check.Failure}";
            }

            if (receipt.Event is not JsonElement evt)
            {
                return $"receipt of event {receipt.EventId} does not carry its event";
            }

            thumbprints.Add(check.KeyThumbprint!);
            var terms = EventTerms.Of(evt);
            if (!terms.BizTransactions.Any(b => documents.ContainsKey(b.Id)))
            {
                return $"event {receipt.EventId} names none of the documents' business transactions";
            }

            toBuyer |= terms.Parties.Any(p => !p.IsSource && p.Type is "owning_party" or "possessing_party" && Parties.PartnerOf(p.Id, parties) == invoice.Buyer);
        }

        return view.Backed && !toBuyer ? $"the receivable is stated backed, and no event in the bundle goes to the buyer {invoice.Buyer}" : null;
    }

    private static bool Before(Receipt earlier, Receipt later) =>
        earlier.Height < later.Height || (earlier.Height == later.Height && earlier.LeafIndex < later.LeafIndex);
}
