import { splitLinks } from '../lib/mail';

/**
 * A message's HTML part in a sandboxed frame (`sandbox=""`: no scripts, no forms, an opaque
 * origin), never put into the page itself, and its text part with its links made followable.
 */
export function MailBody({ text, html }: { text: string; html: string }) {
  return (
    <div className="mail-body">
      <h4>Text part</h4>
      <pre className="mail-text" data-testid="mail-text" tabIndex={0}>
        {splitLinks(text).map((piece, index) =>
          piece.href ? (
            <a key={index} href={piece.href} target="_blank" rel="noopener noreferrer">{piece.text}</a>
          ) : (
            piece.text
          ),
        )}
      </pre>
      <h4>HTML part</h4>
      <iframe className="mail-frame" title="HTML part" sandbox="" srcDoc={html} referrerPolicy="no-referrer" />
    </div>
  );
}
