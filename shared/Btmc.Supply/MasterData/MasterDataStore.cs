using System.Text;
using Btmc.Epcis;
using Btmc.Epcis.Identifiers;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Storage;

namespace Btmc.Supply.MasterData;

/// <summary>
/// EPCIS master data as partners capture it in <c>epcisHeader.epcisMasterData</c> (docs/epcis-capture.md, "Master
/// data"), kept per capturing partner in the <c>masterdata</c> table: PK partner id, RK the element id (percent-encoded
/// where the table forbids a character). Partners are competitors, so:
/// <list type="bullet">
/// <item>an element whose id is a GS1 key with a company prefix (a GLN, an SGLN…) is accepted only from the partner that
/// owns the prefix, and is then used by every partner's queries (<c>Shared</c>);</item>
/// <item>any other element (a private URI) is used only by its capturing partner's queries.</item>
/// </list>
/// Writes are idempotent: the same element again changes nothing; a new version replaces the element whole (the last
/// write of the owner wins).
/// </summary>
public sealed class MasterDataStore(SupplyTables tables, TimeProvider time)
{
    /// <summary>
    /// The problems (403) of elements the caller may not define: GS1-keyed ids under a company prefix it does not own
    /// (a grant to commission under a prefix is no right to describe the prefix owner's locations).
    /// </summary>
    public static IReadOnlyList<EpcisProblem> Forbidden(Caller caller, IReadOnlyList<CapturedMasterData> elements)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(elements);
        return elements
            .Where(e => e.Element.IsGs1Keyed && !CompanyPrefix.IsUnderAny(e.Element.Id, caller.Prefixes))
            .Select(e => new EpcisProblem(null, e.Pointer + "/id",
                $"'{e.Element.Id}' is under a company prefix that partner '{caller.PartnerId}' does not own: only the prefix's owner may give master data for it."))
            .ToList();
    }

    /// <summary>Stores the caller's elements (checked with <see cref="Forbidden"/> first); returns how many were new or changed.</summary>
    public async Task<int> StoreAsync(Caller caller, IReadOnlyList<CapturedMasterData> elements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(elements);
        var changed = 0;

        // Within one document a later element with the same id is the newer version.
        foreach (var element in elements.Select(e => e.Element).Reverse().DistinctBy(e => RowKeyOf(e.Id)).Reverse())
        {
            var rowKey = RowKeyOf(element.Id);
            var existing = await tables.MasterData.GetEntityIfExistsAsync(caller.PartnerId, rowKey, cancellationToken).ConfigureAwait(false);
            if (existing is not null && MasterDataElement.FromJson(existing.GetString("Element")).SameAs(element))
            {
                continue;
            }

            await tables.MasterData.UpsertEntityAsync(new TableEntity(caller.PartnerId, rowKey, new Dictionary<string, object>
            {
                ["Element"] = element.ToJson(),
                ["Shared"] = element.IsGs1Keyed,
                ["UpdatedAt"] = time.GetUtcNow(),
            }), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            changed++;
        }

        return changed;
    }

    /// <summary>The elements the caller captured, by id.</summary>
    public async Task<IReadOnlyList<MasterDataElement>> OwnAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var own = new List<MasterDataElement>();
        await foreach (var row in tables.MasterData.QueryAllAsync(new TableQuery(caller.PartnerId), cancellationToken).ConfigureAwait(false))
        {
            own.Add(MasterDataElement.FromJson(row.GetString("Element")));
        }

        return own;
    }

    /// <summary>
    /// The master data a query run of <paramref name="caller"/> uses: its own elements and every partner's shared
    /// (GS1-keyed) ones. Read once per run; master data is small next to events (locations, not goods).
    /// </summary>
    public async Task<MasterDataView> ViewForAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var elements = new List<MasterDataElement>();
        await foreach (var row in tables.MasterData.QueryAllAsync(new TableQuery(), cancellationToken).ConfigureAwait(false))
        {
            if (row.PartitionKey == caller.PartnerId || (row.Properties.TryGetValue("Shared", out var shared) && shared is true))
            {
                elements.Add(MasterDataElement.FromJson(row.GetString("Element")));
            }
        }

        return new MasterDataView(elements);
    }

    /// <summary>The row key of an element id: the id in its canonical spelling, with the characters a table key may not
    /// hold ('/', '\', '#', '?', '%' and control characters) percent-encoded, so distinct ids keep distinct keys.</summary>
    public static string RowKeyOf(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var canonical = EventTerms.CanonicalEpc(id);
        var key = new StringBuilder(canonical.Length);
        foreach (var c in canonical)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c))
            {
                key.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                key.Append(c);
            }
        }

        return key.ToString();
    }
}
