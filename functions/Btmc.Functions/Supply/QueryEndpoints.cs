using System.Text.Json;
using Btmc.Epcis.Query;
using Btmc.Functions.Partners;
using Btmc.Supply;
using Btmc.Supply.Query;

namespace Btmc.Functions.Supply;

/// <summary>EPCIS 2.0 REST query: <c>GET /api/epcis/events</c> with the SimpleEventQuery parameters.</summary>
public static class QueryEndpoints
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/api/epcis/events", QueryAsync).WithName(FunctionNames.QueryEvents).RequireCaller();

    private static Task QueryAsync(HttpContext context, SupplyBackend backend, CancellationToken cancellationToken) =>
        RunAsync(context, backend, context.Request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))), cancellationToken);

    /// <summary>Runs a query of <paramref name="parameters"/> for the caller and writes the page (a named query's run
    /// passes its stored parameters and the request's paging); the next page's link repeats the request's own query string.</summary>
    internal static async Task RunAsync(HttpContext context, SupplyBackend backend, IEnumerable<KeyValuePair<string, string?>> parameters, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var parsed = EpcisQuery.Parse(parameters);
        if (!parsed.IsValid)
        {
            var first = parsed.Problems[0];
            await Problems.OfEpcisException(StatusCodes.Status400BadRequest, "QueryParameterException", $"{first.Pointer}: {first.Detail}", parsed.Problems).ExecuteAsync(context);
            return;
        }

        QueryPage page;
        try
        {
            page = await backend.Query.RunAsync(parsed.Query!, PartnerAuthentication.CallerOf(context), cancellationToken);
        }
        catch (FormatException ex)
        {
            await Problems.OfEpcisException(StatusCodes.Status400BadRequest, "QueryParameterException", $"nextPageToken: {ex.Message}",
                [new Epcis.EpcisProblem(null, "nextPageToken", ex.Message)]).ExecuteAsync(context);
            return;
        }
        catch (QueryTooLargeException ex)
        {
            // The REST binding answers QueryTooLargeException with 413.
            await Problems.OfEpcisException(StatusCodes.Status413PayloadTooLarge, "QueryTooLargeException", ex.Message,
                ex.Parameter is { } parameter ? [new Epcis.EpcisProblem(null, parameter, ex.Message)] : null).ExecuteAsync(context);
            return;
        }
        catch (QueryTooComplexException ex)
        {
            // The REST binding answers QueryTooComplexException with 413 as well: the query, not the caller, must change.
            await Problems.OfEpcisException(StatusCodes.Status413PayloadTooLarge, "QueryTooComplexException", ex.Message, null).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        if (page.NextPageToken is { } token)
        {
            var next = QueryString.Create(request.Query
                .Where(q => q.Key != "nextPageToken")
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                .Append(new KeyValuePair<string, string?>("nextPageToken", token)));
            response.Headers.Link = $"<{request.PathBase}{request.Path}{next}>; rel=\"next\"";
        }

        response.ContentType = "application/ld+json";
        await using var writer = new Utf8JsonWriter(response.BodyWriter);
        EpcisQueryDocumentWriter.Write(writer, page.Events, backend.Time.GetUtcNow());
        await writer.FlushAsync(cancellationToken);
    }
}
