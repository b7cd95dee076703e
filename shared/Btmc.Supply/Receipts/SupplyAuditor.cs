using System.Text.Json;
using Btmc.Chains;
using Btmc.Epcis;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;

namespace Btmc.Supply.Receipts;

/// <summary>
/// Audits supply chains from the stored data (<see cref="ChainAuditor"/>) with the supply check of each entry: the
/// stored event re-hashed under CBV 2.0 gives the entry's hash, and names the entry's id. What a receipt proves of
/// one event, this proves of every event.
/// </summary>
public sealed class SupplyAuditor(ChainReader reader)
{
    /// <param name="chainIds">The supply chains to audit.</param>
    /// <param name="rules">The producer schedule, as an audit of the governance chain re-derived it.</param>
    public async Task<LedgerAudit> AuditAsync(IEnumerable<string> chainIds, DposRules rules, CancellationToken cancellationToken = default) =>
        new(await new ChainAuditor(reader).AuditAsync(chainIds, rules, CheckEntry, cancellationToken).ConfigureAwait(false));

    /// <summary>The supply check of one stored entry (a <see cref="ChainEntryCheck"/>).</summary>
    public static string? CheckEntry(StoredEntry entry)
    {
        if (!TryHashEvent(entry.Event, out var eventHash, out var ledgerId))
        {
            return "the stored event is not a readable EPCIS event";
        }

        if (eventHash != entry.EventHash)
        {
            return $"the stored event hashes to {eventHash.ToHex()[..16]}.., the entry records {entry.EventHash.ToHex()[..16]}..";
        }

        return ledgerId != entry.EventId ? $"the stored event's own identity is {ledgerId}" : null;
    }

    /// <summary>The content hash and ledger id a stored event's bytes give; false when they are not a readable stored event.</summary>
    internal static bool TryHashEvent(ReadOnlyMemory<byte> json, out Hash32 hash, out string ledgerId)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            hash = EventCanonicalForm.ComputeHash(document.RootElement);
            ledgerId = StoredEvent.LedgerId(document.RootElement);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            hash = default;
            ledgerId = string.Empty;
            return false;
        }
    }
}
