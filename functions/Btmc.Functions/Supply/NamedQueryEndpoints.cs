using System.Text.Json;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Btmc.Supply;

namespace Btmc.Functions.Supply;

/// <summary>
/// Named queries (EPCIS 2.0 REST binding, <c>/queries</c>; docs/epcis-query.md, "Named queries"):
/// <c>POST /api/epcis/queries</c> <c>{"name", "query": {parameter: value or [values]}}</c>, <c>GET</c> the caller's list
/// or one, <c>DELETE</c> one, and <c>GET /api/epcis/queries/{name}/events</c> runs it (with <c>perPage</c> and
/// <c>nextPageToken</c> as for <c>/api/epcis/events</c>, or as a WebSocket subscription). A partner's queries are its own.
/// </summary>
public static class NamedQueryEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/epcis/queries", CreateAsync).WithName(FunctionNames.CreateNamedQuery).RequireCaller();
        app.MapGet("/api/epcis/queries", ListAsync).WithName(FunctionNames.ListNamedQueries).RequireCaller();
        app.MapGet("/api/epcis/queries/{name}", GetAsync).WithName(FunctionNames.GetNamedQuery).RequireCaller();
        app.MapDelete("/api/epcis/queries/{name}", DeleteAsync).WithName(FunctionNames.DeleteNamedQuery).RequireCaller();
        app.MapGet("/api/epcis/queries/{name}/events", RunAsync).WithName(FunctionNames.RunNamedQuery).RequireCaller();
    }

    private static async Task<IResult> CreateAsync(HttpContext context, SupplyBackend backend, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            throw Refused.Invalid("body", $"The body is not JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("query", out var query) || query.ValueKind != JsonValueKind.Object)
            {
                throw Refused.Invalid("query", "The body is {\"name\": \"…\", \"query\": {\"EQ_bizStep\": \"shipping\", …}}.");
            }

            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var (saved, created) = await backend.NamedQueries.CreateAsync(PartnerAuthentication.CallerOf(context), name, Parameters(query), cancellationToken);
            return Results.Json(saved.View(), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK)
                .WithLocation("/api/epcis/queries/" + saved.Name);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext context, SupplyBackend backend, CancellationToken cancellationToken) =>
        Results.Json(new { queries = (await backend.NamedQueries.ListAsync(PartnerAuthentication.CallerOf(context), cancellationToken)).Select(q => q.View()) });

    private static async Task<IResult> GetAsync(string name, HttpContext context, SupplyBackend backend, CancellationToken cancellationToken) =>
        await backend.NamedQueries.GetAsync(PartnerAuthentication.CallerOf(context), name, cancellationToken) is { } query
            ? Results.Json(query.View())
            : NotFound(name);

    /// <summary>Deletes the query and, as the REST binding asks, unsubscribes every subscription to it.</summary>
    private static async Task<IResult> DeleteAsync(string name, HttpContext context, SupplyBackend backend, SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        if (!await backend.NamedQueries.DeleteAsync(caller, name, cancellationToken))
        {
            return NotFound(name);
        }

        await backend.Subscriptions.DeleteForQueryAsync(caller, name, cancellationToken);
        dispatcher.Refresh();
        return Results.NoContent();
    }

    /// <summary>Runs the stored query with this request's paging parameters, for the caller, with its visibility; with a
    /// WebSocket upgrade or subscription parameters, subscribes over the socket instead (<see cref="SubscriptionEndpoints"/>).</summary>
    private static async Task RunAsync(string name, HttpContext context, SupplyBackend backend, SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        if (await backend.NamedQueries.GetAsync(PartnerAuthentication.CallerOf(context), name, cancellationToken) is not { } query)
        {
            await NotFound(name).ExecuteAsync(context);
            return;
        }

        if (context.WebSockets.IsWebSocketRequest || SubscriptionEndpoints.AsksToSubscribe(context.Request))
        {
            await SubscriptionEndpoints.StreamAsync(context, query, backend, dispatcher, cancellationToken);
            return;
        }

        var paging = context.Request.Query.Where(q => q.Key is "perPage" or "nextPageToken")
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)));
        await QueryEndpoints.RunAsync(context, backend, query.Parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)).Concat(paging), cancellationToken);
    }

    /// <summary>The query object's members as parameters: a string or a number as one value, an array as one value per item
    /// (a repeated parameter adds values, as in a query string).</summary>
    private static List<KeyValuePair<string, string>> Parameters(JsonElement query)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        foreach (var member in query.EnumerateObject())
        {
            var values = member.Value.ValueKind == JsonValueKind.Array ? member.Value.EnumerateArray().ToList() : [member.Value];
            foreach (var value in values)
            {
                parameters.Add(new(member.Name, value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                    _ => throw Refused.Invalid("query/" + member.Name, $"{member.Name}: a value is a string, a number, or an array of them."),
                }));
            }
        }

        return parameters;
    }

    private static IResult NotFound(string name) => Problems.OfField(StatusCodes.Status404NotFound, "Not found", $"You have no named query '{name}'.", "name");
}
