using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Btmc.Epcis;
using Btmc.Epcis.Query;
using Btmc.Functions.Partners;
using Btmc.Ledger;
using Btmc.Supply;
using Btmc.Supply.Query;
using Btmc.Supply.Subscriptions;

namespace Btmc.Functions.Supply;

/// <summary>
/// Query subscriptions (EPCIS 2.0 REST binding; docs/epcis-query.md, "Subscriptions"):
/// <c>POST /api/epcis/queries/{name}/subscriptions</c> subscribes a webhook (<c>dest</c>, optional <c>signatureToken</c>,
/// <c>stream: true</c> or a <c>schedule</c>, <c>reportIfEmpty</c>, <c>initialRecordTime</c>), <c>GET</c> lists the caller's
/// subscriptions to the query or shows one, <c>DELETE</c> unsubscribes; and <c>GET /api/epcis/queries/{name}/events</c>
/// with a WebSocket upgrade and <c>stream=true</c> or schedule parameters streams results over the socket.
/// </summary>
public static class SubscriptionEndpoints
{
    /// <summary>The query-string members of a WebSocket subscription (the REST binding's GS1-Query-* parameters).</summary>
    private static readonly string[] StreamParameters = ["stream", "reportIfEmpty", "initialRecordTime", .. QuerySchedule.Ranges.Select(r => r.Name)];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/epcis/queries/{name}/subscriptions", CreateAsync).WithName(FunctionNames.CreateSubscription).RequireCaller();
        app.MapGet("/api/epcis/queries/{name}/subscriptions", ListAsync).WithName(FunctionNames.ListSubscriptions).RequireCaller();
        app.MapGet("/api/epcis/queries/{name}/subscriptions/{id}", GetAsync).WithName(FunctionNames.GetSubscription).RequireCaller();
        app.MapDelete("/api/epcis/queries/{name}/subscriptions/{id}", DeleteAsync).WithName(FunctionNames.DeleteSubscription).RequireCaller();
    }

    private static async Task<IResult> CreateAsync(string name, HttpContext context, SupplyBackend backend, SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
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
            try
            {
                var request = Read(document.RootElement);
                var (subscription, created) = await backend.Subscriptions.CreateAsync(PartnerAuthentication.CallerOf(context), name, request, dispatcher.Destinations,
                    async ct => await StartCursorAsync(dispatcher, ct), cancellationToken);
                dispatcher.Refresh();
                return Results.Json(subscription.View(), statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK)
                    .WithLocation($"/api/epcis/queries/{name}/subscriptions/{subscription.Id}");
            }
            catch (SubscriptionControlsException ex)
            {
                return ControlsProblem(ex);
            }
        }
    }

    private static async Task<IResult> ListAsync(string name, HttpContext context, SupplyBackend backend, CancellationToken cancellationToken)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        return await backend.NamedQueries.GetAsync(caller, name, cancellationToken) is null
            ? QueryNotFound(name)
            : Results.Json((await backend.Subscriptions.ListAsync(caller, name, cancellationToken)).Select(s => s.View()));
    }

    private static async Task<IResult> GetAsync(string name, string id, HttpContext context, SupplyBackend backend, CancellationToken cancellationToken) =>
        await backend.Subscriptions.GetAsync(PartnerAuthentication.CallerOf(context), name, id, cancellationToken) is { } subscription
            ? Results.Json(subscription.View())
            : SubscriptionNotFound(name, id);

    private static async Task<IResult> DeleteAsync(string name, string id, HttpContext context, SupplyBackend backend, SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        if (!await backend.Subscriptions.DeleteAsync(PartnerAuthentication.CallerOf(context), name, id, cancellationToken))
        {
            return SubscriptionNotFound(name, id);
        }

        dispatcher.Refresh();
        return Results.NoContent();
    }

    /// <summary>True when the request to run a named query carries subscription parameters (<c>stream</c>, schedule …).</summary>
    internal static bool AsksToSubscribe(HttpRequest request) => StreamParameters.Any(request.Query.ContainsKey);

    /// <summary>
    /// A WebSocket subscription to the caller's query: each message is an EPCISQueryDocument of new results (at most
    /// <see cref="SubscriptionOptions.BatchSize"/> events), sent as blocks are sealed (<c>stream=true</c>) or at the
    /// schedule's times. It lasts as long as the socket; a client that stops reading is disconnected after the send
    /// timeout, and only its own connection waits on it.
    /// </summary>
    internal static async Task StreamAsync(HttpContext context, NamedQuery named, SupplyBackend backend, SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        var caller = PartnerAuthentication.CallerOf(context);
        SubscriptionRequest request;
        EpcisQuery query;
        try
        {
            request = ReadQueryString(context.Request);
            if (request.Stream is not true && request.Schedule is null)
            {
                throw new SubscriptionControlsException("stream", "Give stream=true to be sent events as they are sealed, or schedule parameters (second, minute, …).");
            }

            if (request.Stream is true && request.Schedule is not null)
            {
                throw new SubscriptionControlsException("stream", "Give either stream=true or schedule parameters, not both.");
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                throw new SubscriptionControlsException("stream", "A subscription on this endpoint is a WebSocket: send the request as a WebSocket upgrade, or subscribe a webhook with POST …/subscriptions.");
            }

            var parsed = EpcisQuery.Parse(named.Parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
            query = parsed.Query ?? throw new SubscriptionControlsException("queryName", "The named query no longer parses.");
            query = await backend.Query.ResolveMasterDataAsync(query, caller, cancellationToken);
        }
        catch (SubscriptionControlsException ex)
        {
            await ControlsProblem(ex).ExecuteAsync(context);
            return;
        }

        var schedule = request.Schedule is { } fields ? QuerySchedule.Parse(fields) : null;
        var initial = request.InitialRecordTime ?? backend.Time.GetUtcNow();
        var cursor = request.InitialRecordTime is null ? await StartCursorAsync(dispatcher, cancellationToken) : SubscriptionCursor.Start(backend.Options.Partitions);
        using var stream = dispatcher.OpenStream();
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The client sends nothing but a close: reading it ends the session.
        var closed = DrainAsync(socket, session);
        try
        {
            var next = schedule?.Next(backend.Time.GetUtcNow());
            while (!session.IsCancellationRequested)
            {
                // Taken before collecting, so a block sealed while collecting still wakes the next round.
                var changed = schedule is null ? dispatcher.Feed.WaitAsync(session.Token) : null;
                if (next is { } due)
                {
                    var wait = due - backend.Time.GetUtcNow();
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, backend.Time, session.Token);
                    }

                    next = schedule!.Next(backend.Time.GetUtcNow());
                }

                var sent = false;
                while (true)
                {
                    if (await backend.NamedQueries.GetAsync(caller, named.Name, session.Token) is null)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "The named query was deleted.", CancellationToken.None);
                        return;
                    }

                    var batch = await dispatcher.Feed.CollectAsync(cursor, query, caller, initial, dispatcher.Options.BatchSize, session.Token);
                    cursor = batch.Next;
                    if (batch.Events.Count > 0 || (schedule is not null && request.ReportIfEmpty && !sent))
                    {
                        await SendAsync(socket, batch.Events, named.Name, backend.Time.GetUtcNow(), TimeSpan.FromSeconds(dispatcher.Options.DeliveryTimeoutSeconds), session.Token);
                        sent = true;
                    }

                    if (batch.CaughtUp)
                    {
                        break;
                    }
                }

                if (changed is not null)
                {
                    await changed;
                }
            }
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested)
        {
            // The client closed the socket, or the server is stopping: the session simply ends.
        }
        catch (WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            await session.CancelAsync();
            await closed;
        }
    }

    private static async Task SendAsync(WebSocket socket, IReadOnlyList<ReadOnlyMemory<byte>> events, string queryName, DateTimeOffset now, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var body = EpcisQueryDocumentWriter.ToUtf8(events, now, queryName, null);

        using var send = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        send.CancelAfter(timeout);
        try
        {
            await socket.SendAsync(body, WebSocketMessageType.Text, endOfMessage: true, send.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A client that does not read within the timeout is let go; the others never waited on it.
            socket.Abort();
            throw new WebSocketException("The client did not read within the send timeout.");
        }
    }

    private static async Task DrainAsync(WebSocket socket, CancellationTokenSource session)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, session.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The session ended or the connection broke: either way there is nothing more to read.
        }
        finally
        {
            await session.CancelAsync();
        }
    }

    /// <summary>"Now" as a cursor: the chains' next heights (the feed's, once it has looked).</summary>
    private static async Task<SubscriptionCursor> StartCursorAsync(SubscriptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        await dispatcher.Feed.PollAsync(cancellationToken);
        return dispatcher.Feed.Heads;
    }

    private static SubscriptionRequest Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SubscriptionControlsException("body", "The body is {\"dest\": \"https://…\", \"signatureToken\": \"…\", \"stream\": true} or with a \"schedule\".");
        }

        foreach (var member in root.EnumerateObject())
        {
            if (member.Name is not ("dest" or "signatureToken" or "stream" or "schedule" or "reportIfEmpty" or "initialRecordTime"))
            {
                throw new SubscriptionControlsException(member.Name, $"'{member.Name}' is not a subscription member (dest, signatureToken, stream, schedule, reportIfEmpty, initialRecordTime).");
            }
        }

        Dictionary<string, string>? schedule = null;
        if (root.TryGetProperty("schedule", out var s))
        {
            if (s.ValueKind != JsonValueKind.Object)
            {
                throw new SubscriptionControlsException("schedule", "schedule is an object: {\"hour\": \"1\", \"minute\": \"5\"}.");
            }

            schedule = [];
            foreach (var field in s.EnumerateObject())
            {
                schedule[field.Name] = field.Value.ValueKind switch
                {
                    JsonValueKind.String => field.Value.GetString()!,
                    JsonValueKind.Number => field.Value.GetRawText(),
                    _ => throw new SubscriptionControlsException("schedule/" + field.Name, $"schedule/{field.Name} is a string such as \"0,30\" or \"[1-5]\"."),
                };
            }
        }

        return new SubscriptionRequest(
            String(root, "dest"),
            String(root, "signatureToken"),
            Boolean(root, "stream"),
            schedule,
            Boolean(root, "reportIfEmpty") ?? false,
            root.TryGetProperty("initialRecordTime", out var t)
                ? t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var time) ? time
                    : throw new SubscriptionControlsException("initialRecordTime", "initialRecordTime is an RFC 3339 date-time.")
                : null);

        static string? String(JsonElement root, string name) =>
            !root.TryGetProperty(name, out var value) ? null
            : value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw new SubscriptionControlsException(name, $"{name} is a string.");

        static bool? Boolean(JsonElement root, string name) =>
            !root.TryGetProperty(name, out var value) ? null
            : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
            : throw new SubscriptionControlsException(name, $"{name} is true or false.");
    }

    private static SubscriptionRequest ReadQueryString(HttpRequest request)
    {
        string? One(string name) => request.Query.TryGetValue(name, out var values) ? values.Count == 1 ? values[0]
            : throw new SubscriptionControlsException(name, $"{name} is given once.") : null;

        bool? Flag(string name) => One(name) switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw new SubscriptionControlsException(name, $"{name} is true or false."),
        };

        var schedule = QuerySchedule.Ranges.Where(r => request.Query.ContainsKey(r.Name)).ToDictionary(r => r.Name, r => One(r.Name)!, StringComparer.Ordinal);
        DateTimeOffset? initial = One("initialRecordTime") is { } text
            ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ? time
                : throw new SubscriptionControlsException("initialRecordTime", "initialRecordTime is an RFC 3339 date-time.")
            : null;
        return new SubscriptionRequest(null, null, Flag("stream"), schedule.Count > 0 ? schedule : null, Flag("reportIfEmpty") ?? false, initial);
    }

    private static IResult ControlsProblem(SubscriptionControlsException ex) =>
        Problems.OfEpcisException(StatusCodes.Status400BadRequest, "SubscriptionControlsException", $"{ex.Field}: {ex.Message}", [new EpcisProblem(null, ex.Field, ex.Message)]);

    private static IResult QueryNotFound(string name) => Problems.OfField(StatusCodes.Status404NotFound, "Not found", $"You have no named query '{name}'.", "name");

    private static IResult SubscriptionNotFound(string name, string id) =>
        Problems.OfField(StatusCodes.Status404NotFound, "Not found", $"You have no subscription '{id}' to query '{name}'.", "subscriptionID");
}
