using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Supply;
using Btmc.Supply.Access;

namespace Btmc.Trade;

/// <summary>A sealed EPCIS event that names one of a trade document's business transactions: which document, where
/// the event is, its business step, and the destination party it names that is the buyer (null if none is).</summary>
public sealed record LinkedEvent(string EventId, LedgerPosition Position, string Document, string BizTransaction, string? BizStep, string? BuyerDestination);

/// <summary>Whether an invoice's goods went to its buyer on the ledger: backed when a sealed event that names the
/// invoice, its order or one of the order's despatch advices has a destination that is the buyer.</summary>
public sealed record InvoiceBacking(bool Backed, IReadOnlyList<LinkedEvent> Events);

/// <summary>
/// Links trade documents to the EPCIS events whose <c>bizTransactionList</c> names them (docs/trade.md, "Backing"), by
/// the term index's business-transaction rows. An invoice nobody shipped to its buyer is unbacked: flagged, never
/// refused, because the goods may travel after the invoice, and because the ledger sees only what partners capture.
/// </summary>
public sealed class TradeBacking(SupplyBackend supply)
{
    /// <summary>The registered partner <paramref name="partnerId"/> as parties are resolved (its owned prefixes), or null.</summary>
    public Caller? Party(string partnerId) => supply.Ownership.Partners().FirstOrDefault(p => p.PartnerId == partnerId);

    /// <summary>Every sealed event naming the invoice, its order or the order's despatch advices, and whether one went to the buyer.
    /// Events declared erroneous do not count.</summary>
    public async Task<InvoiceBacking> OfInvoiceAsync(TradeState state, InvoiceRecord invoice, CancellationToken cancellationToken = default)
    {
        var documents = new List<TradeDocument> { invoice };
        if (state.Find<OrderRecord>(invoice.Order) is { } order)
        {
            documents.Add(order);
            documents.AddRange(state.OfOrder<DespatchRecord>(order.Id));
        }

        // Which partner a party is: the same registry view the ownership rules resolve parties with.
        var partners = supply.Ownership.Partners();
        var events = new List<LinkedEvent>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            foreach (var hit in await supply.Terms.FindBizTransactionAsync(document.BizTransaction, cancellationToken).ConfigureAwait(false))
            {
                if (!seen.Add(hit.EventId) || await supply.Reader.FindSealedAsync(StoredEvent.ErrorDeclarationId(hit.EventId), cancellationToken).ConfigureAwait(false) is not null)
                {
                    continue;
                }

                if (await supply.Reader.GetEventAsync(hit.EventId, cancellationToken).ConfigureAwait(false) is not { Position: not null } view)
                {
                    continue;
                }

                using var json = JsonDocument.Parse(view.Event);
                var terms = EventTerms.Of(json.RootElement);
                var toBuyer = terms.Parties.FirstOrDefault(p => !p.IsSource && p.Type is "owning_party" or "possessing_party"
                    && Parties.PartnerOf(p.Id, partners) == invoice.Buyer);
                events.Add(new LinkedEvent(hit.EventId, view.Position!, document.Id, document.BizTransaction, terms.BizStep, toBuyer?.Id));
            }
        }

        return new InvoiceBacking(events.Any(e => e.BuyerDestination is not null), events);
    }
}
