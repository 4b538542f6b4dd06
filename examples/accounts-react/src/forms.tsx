import { ValidationError } from '@users-api/client';
import { describeAuthError } from '@users-api/client/react';
import { useId, useState, type FormEvent, type ReactNode } from 'react';

/** What a refused call left to show: problems by field name, and a sentence for the rest. */
export interface Problems {
  fields: Record<string, string>;
  alert?: string | undefined;
}

/** A 422's problems go next to their fields (by the service's own field names); anything else above the form. */
export function problemsOf(error: unknown, fieldNames: string[]): Problems {
  if (error instanceof ValidationError) {
    const fields: Record<string, string> = {};
    const others: string[] = [];
    for (const [field, problem] of Object.entries(error.fieldErrors)) {
      if (fieldNames.includes(field)) fields[field] = problem.message;
      else others.push(`${field} ${problem.message}`);
    }
    return { fields, alert: others.length > 0 ? others.join('; ') : undefined };
  }
  return { fields: {}, alert: describeAuthError(error, window.location.origin) };
}

/**
 * One form's state around an async call: while sending, its problems, and a success message.
 * `run` returns the message to show, or throws what the client threw.
 */
export function useSubmit(fieldNames: string[], run: () => Promise<string>) {
  const [sending, setSending] = useState(false);
  const [problems, setProblems] = useState<Problems>({ fields: {} });
  const [done, setDone] = useState<string | undefined>();
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSending(true);
    setProblems({ fields: {} });
    setDone(undefined);
    try {
      setDone(await run());
    } catch (error) {
      setProblems(problemsOf(error, fieldNames));
    } finally {
      setSending(false);
    }
  };
  return { sending, problems, done, onSubmit: (event: FormEvent<HTMLFormElement>) => void onSubmit(event) };
}

/** A labelled input whose problem is tied to it (aria-invalid, aria-describedby). */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  problem?: string | undefined;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  multiline?: boolean;
  required?: boolean;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const shared = {
    id,
    name: props.name,
    value: props.value,
    required: props.required,
    'aria-invalid': props.problem !== undefined,
    'aria-describedby': props.problem === undefined ? undefined : errorId,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...shared} rows={3} onChange={(event) => props.onChange(event.target.value)} />
      ) : (
        <input
          {...shared}
          type={props.type ?? 'text'}
          autoComplete={props.autoComplete}
          onChange={(event) => props.onChange(event.target.value)}
        />
      )}
      {props.problem !== undefined && (
        <p id={errorId} className="error">
          {props.problem}
        </p>
      )}
    </div>
  );
}

/** The alert above a form and the success line below it. */
export function Outcome({ problems, done }: { problems: Problems; done?: string | undefined }): ReactNode {
  return (
    <>
      {problems.alert !== undefined && (
        <p className="alert" role="alert">
          {problems.alert}
        </p>
      )}
      {done !== undefined && (
        <p className="success" role="status">
          {done}
        </p>
      )}
    </>
  );
}
