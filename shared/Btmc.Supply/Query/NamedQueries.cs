using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Query;

/// <summary>A named query as stored: its name and its SimpleEventQuery parameters, each with its values, in the order given.</summary>
public sealed record NamedQuery(string Name, IReadOnlyList<KeyValuePair<string, string>> Parameters, DateTimeOffset CreatedAt)
{
    /// <summary>The query as the EPCIS 2.0 REST binding shows it: <c>{"name", "query": {parameter: value or [values]}}</c>.</summary>
    public object View() => new
    {
        name = Name,
        query = Parameters.GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count() == 1 ? (object)g.First().Value : g.Select(p => p.Value).ToList(), StringComparer.Ordinal),
        createdAt = CreatedAt,
    };
}

/// <summary>
/// Named queries (EPCIS 2.0 REST binding, <c>/queries</c>; docs/epcis-query.md, "Named queries"): a partner stores a
/// SimpleEventQuery under a name and runs it by name. They are the partner's own: another partner neither sees nor runs
/// them, and a query runs with the visibility of whoever runs it. Stored in the <c>queries</c> table (PK partner, RK
/// name), so every instance serves them and they survive restarts. Creating the same query again is idempotent; another
/// query under a taken name is refused (409).
/// </summary>
public sealed partial class NamedQueries(SupplyTables tables, TimeProvider time)
{
    /// <summary>The most named queries one partner keeps.</summary>
    public const int MaxPerPartner = 1000;

    /// <summary>Parameters that belong to a run, not to the query (paging).</summary>
    private static readonly HashSet<string> RunParameters = new(StringComparer.Ordinal) { "perPage", "nextPageToken" };

    /// <summary>Stores <paramref name="name"/> for <paramref name="caller"/>; the parameters are checked as a query would be.
    /// Returns the query and whether this call created it.</summary>
    /// <exception cref="Refused">A bad name or parameter (400, naming it), a name taken by another query (409), or too many queries (409).</exception>
    public async Task<(NamedQuery Query, bool Created)> CreateAsync(Caller caller, string? name, IReadOnlyList<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken = default)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw Refused.Invalid("name", $"'{name}' is not a query name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        if (parameters.FirstOrDefault(p => RunParameters.Contains(p.Key)) is { Key: { } paging })
        {
            throw Refused.Invalid("query/" + paging, $"{paging} belongs to a run of the query (GET …/queries/{name}/events?{paging}=…), not to its definition.");
        }

        var parsed = EpcisQuery.Parse(parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        if (!parsed.IsValid)
        {
            var first = parsed.Problems[0];
            throw new Refused(RefusalKind.Invalid, "query/" + first.Pointer, $"{first.Pointer}: {first.Detail}", "Invalid query",
                parsed.Problems.Select(p => new RefusedMember(p.EventIndex, "query/" + p.Pointer, p.Detail)).ToList());
        }

        if (await GetAsync(caller, name, cancellationToken).ConfigureAwait(false) is null && (await ListAsync(caller, cancellationToken).ConfigureAwait(false)).Count >= MaxPerPartner)
        {
            throw Refused.Conflict("name", $"Partner {caller.PartnerId} keeps {MaxPerPartner} named queries already: delete one first.");
        }

        var query = new NamedQuery(name, parameters, time.GetUtcNow());
        var entity = new TableEntity(caller.PartnerId, name, new Dictionary<string, object>
        {
            ["Parameters"] = JsonSerializer.Serialize(parameters.Select(p => new[] { p.Key, p.Value })),
            ["CreatedAt"] = query.CreatedAt,
        });
        try
        {
            await tables.Queries.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            return (query, true);
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            var existing = await GetAsync(caller, name, cancellationToken).ConfigureAwait(false);
            return existing is not null && existing.Parameters.SequenceEqual(parameters)
                ? (existing, false)
                : throw Refused.Conflict("name", $"Query '{name}' exists with other parameters: delete it first, or choose another name.");
        }
    }

    public async Task<NamedQuery?> GetAsync(Caller caller, string name, CancellationToken cancellationToken = default) =>
        await tables.Queries.GetEntityIfExistsAsync(caller.PartnerId, name, cancellationToken).ConfigureAwait(false) is { } row ? FromEntity(row) : null;

    /// <summary>The caller's named queries, by name.</summary>
    public async Task<IReadOnlyList<NamedQuery>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        var queries = new List<NamedQuery>();
        await foreach (var row in tables.Queries.QueryAllAsync(new TableQuery(caller.PartnerId), cancellationToken).ConfigureAwait(false))
        {
            queries.Add(FromEntity(row));
            if (queries.Count == MaxPerPartner)
            {
                break;
            }
        }

        return queries;
    }

    /// <summary>Deletes the caller's query; false when it had none by that name.</summary>
    public async Task<bool> DeleteAsync(Caller caller, string name, CancellationToken cancellationToken = default)
    {
        if (await tables.Queries.GetEntityIfExistsAsync(caller.PartnerId, name, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        try
        {
            await tables.Queries.DeleteEntityAsync(caller.PartnerId, name, "*", cancellationToken).ConfigureAwait(false);
        }
        catch (TableStoreException ex) when (ex.Status == 404)
        {
            // Deleted meanwhile by another request: deleted all the same.
        }

        return true;
    }

    private static NamedQuery FromEntity(TableEntity row)
    {
        var pairs = JsonSerializer.Deserialize<string[][]>(row.GetString("Parameters")) ?? [];
        return new NamedQuery(row.RowKey, pairs.Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList(), (DateTimeOffset)row.Properties["CreatedAt"]);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
