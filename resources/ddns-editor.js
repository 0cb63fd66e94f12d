/*
 * Shared by the edit dialogs of node-red-contrib-ddns (served by Node-RED at
 * resources/node-red-contrib-ddns/ddns-editor.js; loaded by the nodes' .html files).
 */
(function () {
  'use strict';
  function split(text) {
    return String(text || '')
      .split(/[\s,;]+/)
      .filter(function (s) {
        return s !== '';
      });
  }
  var api = (window.ddnsEditor = window.ddnsEditor || {});

  /**
   * Host names as a TypedInput on <input id="node-input-KEY"> with <input type="hidden"
   * id="node-input-KEYType">: a list of names (the expand button edits it one name per line), or a
   * msg, flow or global property, or an environment variable (`others`: the types offered besides
   * the list; all four when not given). A list saved one name per line
   * (from a textarea) shows joined by commas: an input field drops line breaks.
   */
  api.namesInput = function (node, key, label, others) {
    var field = $('#node-input-' + key);
    if (!node[key + 'Type'] || node[key + 'Type'] === 'str') {
      field.val(split(node[key]).join(', '));
    }
    field.typedInput({
      default: 'str',
      typeField: $('#node-input-' + key + 'Type'),
      types: [
        {
          value: 'str',
          label: label,
          icon: 'red/images/typedInput/az.svg',
          expand: function () {
            var that = this;
            RED.editor.editText({
              mode: 'text',
              value: split(this.value()).join('\n'),
              focus: true,
              complete: function (v) {
                that.value(split(v).join(', '));
              },
            });
          },
        },
      ].concat(others || ['msg', 'flow', 'global', 'env']),
    });
  };

  /** A TypedInput's type: the dialog's field while it is open, else the node's saved one ("str" when none). */
  api.typeOf = function (node, key) {
    var el = $('#node-input-' + key + 'Type');
    return (el.length && el.val()) || node[key + 'Type'] || 'str';
  };
})();
