using System.Net;

namespace Btmc.Platform.Tests.Tables.Azure;

/// <summary>
/// A fake server behind Azure.Core's <c>HttpClientTransport</c>: records every request (with its body
/// and headers as sent) and answers with <see cref="Respond"/>, by default 204 with an ETag.
/// </summary>
internal sealed class RecordingHandler : HttpMessageHandler
{
    public List<RecordedRequest> Requests { get; } = [];

    public Func<RecordedRequest, HttpResponseMessage> Respond { get; set; } = _ => new HttpResponseMessage(HttpStatusCode.NoContent)
    {
        Headers = { ETag = System.Net.Http.Headers.EntityTagHeaderValue.Parse("W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"") },
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method.Method, request.RequestUri!, headers, body);
        Requests.Add(recorded);
        return Respond(recorded);
    }
}

internal sealed record RecordedRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string Body);
