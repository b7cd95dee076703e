using System.Globalization;
using System.Text;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// The wire format of an entity group transaction (<c>POST /$batch</c>): a multipart/mixed batch holding one
/// changeset, one <c>application/http</c> part per action with the absolute entity URL, CRLF line ends. The response
/// holds one HTTP response per action on success, or a single failed response whose OData message starts with the
/// 0-based index of the failing action ("2:The specified entity already exists.").
/// </summary>
internal static class TableBatch
{
    private const string Crlf = "\r\n";

    /// <summary>One response of the batch: its status, its ETag (if any) and its body.</summary>
    internal sealed record PartResponse(int Status, string? ETag, string Body);

    /// <summary>The request body; its Content-Type is <c>multipart/mixed; boundary=</c><paramref name="batchBoundary"/>.</summary>
    public static byte[] BuildBody(Uri endpoint, string tableName, IReadOnlyList<TableTransactionAction> actions, string batchBoundary, string changesetBoundary)
    {
        var text = new StringBuilder(256 * (actions.Count + 1));
        text.Append("--").Append(batchBoundary).Append(Crlf)
            .Append("Content-Type: multipart/mixed; boundary=").Append(changesetBoundary).Append(Crlf)
            .Append(Crlf);
        foreach (var action in actions)
        {
            var entity = action.Entity;
            var (method, path, ifMatch, withBody) = action.ActionType switch
            {
                TableTransactionActionType.Add => ("POST", AzureTableClient.EscapeTableName(tableName), null, true),
                TableTransactionActionType.UpdateMerge => ("PATCH", AzureTableClient.EntityPath(tableName, entity.PartitionKey, entity.RowKey), action.IfMatch, true),
                TableTransactionActionType.UpdateReplace => ("PUT", AzureTableClient.EntityPath(tableName, entity.PartitionKey, entity.RowKey), action.IfMatch, true),
                TableTransactionActionType.UpsertMerge => ("PATCH", AzureTableClient.EntityPath(tableName, entity.PartitionKey, entity.RowKey), null, true),
                TableTransactionActionType.UpsertReplace => ("PUT", AzureTableClient.EntityPath(tableName, entity.PartitionKey, entity.RowKey), null, true),
                TableTransactionActionType.Delete => ("DELETE", AzureTableClient.EntityPath(tableName, entity.PartitionKey, entity.RowKey), action.IfMatch, false),
                _ => throw new ArgumentOutOfRangeException(nameof(actions), action.ActionType, "Unknown action type."),
            };
            text.Append("--").Append(changesetBoundary).Append(Crlf)
                .Append("Content-Type: application/http").Append(Crlf)
                .Append("Content-Transfer-Encoding: binary").Append(Crlf)
                .Append(Crlf)
                .Append(method).Append(' ').Append(endpoint.AbsoluteUri.TrimEnd('/')).Append('/').Append(path).Append(" HTTP/1.1").Append(Crlf)
                .Append("Accept: application/json;odata=minimalmetadata").Append(Crlf)
                .Append("DataServiceVersion: 3.0;").Append(Crlf);
            if (ifMatch is not null)
            {
                text.Append("If-Match: ").Append(ifMatch).Append(Crlf);
            }

            if (withBody)
            {
                var json = Encoding.UTF8.GetString(EntityJson.Serialize(entity));
                text.Append("Content-Type: application/json").Append(Crlf);
                if (method == "POST")
                {
                    text.Append("Prefer: return-no-content").Append(Crlf);
                }

                text.Append(Crlf).Append(json).Append(Crlf);
            }
            else
            {
                text.Append(Crlf);
            }
        }

        text.Append("--").Append(changesetBoundary).Append("--").Append(Crlf)
            .Append("--").Append(batchBoundary).Append("--").Append(Crlf);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>
    /// The HTTP responses inside a multipart batch response, in order. Parts are found by their status lines, so
    /// boundaries and CRLF/LF line ends do not matter.
    /// </summary>
    public static IReadOnlyList<PartResponse> ParseResponse(string body)
    {
        var lines = body.Split('\n');
        var parts = new List<PartResponse>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (!line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || line.Length < 12
                || !int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                continue;
            }

            string? etag = null;
            for (i++; i < lines.Length; i++)
            {
                var header = lines[i].TrimEnd('\r');
                if (header.Length == 0)
                {
                    break;
                }

                if (header.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase))
                {
                    etag = header["ETag:".Length..].Trim();
                }
            }

            var content = new StringBuilder();
            for (i++; i < lines.Length && !lines[i].StartsWith("--", StringComparison.Ordinal); i++)
            {
                content.Append(lines[i].TrimEnd('\r'));
            }

            i--;
            parts.Add(new PartResponse(status, etag, content.ToString()));
        }

        return parts;
    }

    /// <summary>
    /// The ETags of a successful batch, in action order ("" for deletes); or the failure of the action the service
    /// names, as a <see cref="TableStoreException"/> with <see cref="TableStoreException.FailedActionIndex"/>.
    /// </summary>
    public static IReadOnlyList<string> ReadResult(IReadOnlyList<PartResponse> parts, IReadOnlyList<TableTransactionAction> actions)
    {
        var failed = parts.FirstOrDefault(p => p.Status >= 300);
        if (failed is not null)
        {
            var (code, message) = AzureTableClient.ReadOdataError(failed.Body);
            int? index = null;
            var colon = message?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon > 0 && int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                && parsed >= 0 && parsed < actions.Count)
            {
                index = parsed;
            }
            else if (actions.Count == 1)
            {
                index = 0;
            }

            throw new TableStoreException(failed.Status, code ?? "Unknown",
                $"The transaction failed at action {index?.ToString(CultureInfo.InvariantCulture) ?? "?"}: {message}", index);
        }

        if (parts.Count != actions.Count)
        {
            throw new TableStoreException(502, "InvalidResponse",
                $"The batch response holds {parts.Count} responses for {actions.Count} actions.");
        }

        var etags = new string[actions.Count];
        for (var i = 0; i < etags.Length; i++)
        {
            etags[i] = actions[i].ActionType == TableTransactionActionType.Delete ? string.Empty : parts[i].ETag ?? string.Empty;
        }

        return etags;
    }
}
